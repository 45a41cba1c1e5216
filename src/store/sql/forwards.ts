/** Statements on forwards that both engines run as written (see sql/operations.ts for conventions). */

/** $1 id, $2 owner. Done forwards are deleted; their body goes with the last one. */
export const DELETE_LEASED_FORWARD = `
  DELETE FROM forwards WHERE id = $1 AND lease_owner = $2 AND state = 'pending'
  RETURNING body_id, destination, ordering_key`;

/** $1 body id. */
export const DELETE_BODY_IF_UNUSED = `
  DELETE FROM forward_bodies
  WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM forwards WHERE body_id = $1)`;

/** $1 id, $2 owner, $3 due at, $4 status, $5 error, $6 body excerpt. */
export const RETRY_FORWARD = `
  UPDATE forwards SET
    attempts = attempts + 1,
    due_at = $3,
    lease_owner = NULL,
    leased_until = NULL,
    last_status = $4,
    last_error = $5,
    last_body_excerpt = $6
  WHERE id = $1 AND lease_owner = $2 AND state = 'pending'`;

/** $1 id, $2 owner, $3 now, $4 reason, $5 attempts to add, $6 status, $7 error, $8 body excerpt. */
export const DEAD_LETTER_FORWARD = `
  UPDATE forwards SET
    state = 'dead',
    dead_reason = $4,
    dead_at = $3,
    attempts = attempts + $5,
    lease_owner = NULL,
    leased_until = NULL,
    last_status = $6,
    last_error = $7,
    last_body_excerpt = $8
  WHERE id = $1 AND lease_owner = $2 AND state = 'pending'
  RETURNING destination, ordering_key`;

/** The destinations pending forwards are kept for. */
export const PENDING_FORWARD_DESTINATIONS = `SELECT DISTINCT destination FROM forwards WHERE state = 'pending'`;

/** $1 now, $2 destination, $3 reason: its pending forwards that no one holds, kept as dead letters. */
export const DEAD_LETTER_FORWARDS_TO = `
  UPDATE forwards SET state = 'dead', dead_reason = $3, dead_at = $1, lease_owner = NULL, leased_until = NULL
  WHERE destination = $2 AND state = 'pending' AND (leased_until IS NULL OR leased_until <= $1)`;

/** $1 destination, $2 ordering key: whether a later forward of this key now leads. */
export const HAS_PENDING_FORWARD_FOR_KEY = `
  SELECT 1 AS one FROM forwards
  WHERE destination = $1 AND ordering_key = $2 AND state = 'pending'
  LIMIT 1`;

/**
 * The head of every (destination, ordering key): its oldest unfinished forward.
 * Only heads may be sent, so one key's forwards go out in order.
 */
export const FORWARD_HEAD_IDS = `
  SELECT MIN(id) FROM forwards WHERE state = 'pending' GROUP BY destination, ordering_key`;

/**
 * As FORWARD_HEAD_IDS, for the destinations `condition` names only (a condition on
 * `destination`): only their pending forwards are read, through forwards_heads — a claim or a
 * wake-up of one destination must not cost in proportion to another's backlog.
 */
export function forwardHeadIdsWhere(condition: string): string {
  return `SELECT MIN(id) FROM forwards WHERE state = 'pending' AND ${condition} GROUP BY destination, ordering_key`;
}
