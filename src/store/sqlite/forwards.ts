import type { ClaimedForward, DeadLetterRequest, RetryRequest } from '../store';
import { deadForwardParams, retryForwardParams } from '../shared/settle';
import { num, str, toClaimedForward, type Row } from '../shared/rows';
import {
  DEAD_LETTER_FORWARD,
  DEAD_LETTER_FORWARDS_TO,
  DELETE_BODY_IF_UNUSED,
  DELETE_LEASED_FORWARD,
  FORWARD_HEAD_IDS,
  forwardHeadIdsWhere,
  HAS_PENDING_FORWARD_FOR_KEY,
  PENDING_FORWARD_DESTINATIONS,
  RETRY_FORWARD,
} from '../sql/forwards';
import type { SqliteDb } from './db';

/**
 * Heads only (see FORWARD_HEAD_IDS), due and not leased: of every destination, or of those
 * `destinations` names (a condition on `destination`) — then only their heads are read, through
 * forwards_heads, not every destination's pending forwards, so that a claim for one destination
 * does not cost in proportion to another's backlog (CONTRACT.md: "one destination's failures
 * never delay another destination"). Its own backlog it still reads: a search of an index by
 * due time instead read, behind a failing key's head, every forward queued after it (all due),
 * and was slower than this when people wrote more than once during an outage.
 */
const claimForwards = (destinations?: string) => `
  UPDATE forwards SET lease_owner = $1, leased_until = $2
  WHERE id IN (
    SELECT id FROM forwards
    WHERE state = 'pending' AND id IN (${destinations ? forwardHeadIdsWhere(destinations) : FORWARD_HEAD_IDS})
      AND due_at <= $3 AND (leased_until IS NULL OR leased_until <= $3)${destinations ? `\n      AND ${destinations}` : ''}
    ORDER BY id
    LIMIT $4
  )
  RETURNING id`;
const CLAIM_FORWARDS = claimForwards();
/** For the destinations of the JSON list $5. */
export const CLAIM_FORWARDS_TO = claimForwards('destination IN (SELECT value FROM json_each($5))');

const CLAIMED_WITH_BODY = `
  SELECT f.*, b.body, b.headers FROM forwards f JOIN forward_bodies b ON b.id = f.body_id
  WHERE f.id IN (SELECT value FROM json_each($1))
  ORDER BY f.id`;

export function claimForwardsSqlite(
  db: SqliteDb,
  o: { destinations?: string[]; limit: number; owner: string; now: number; leaseMs: number },
): ClaimedForward[] {
  const destinations = o.destinations ? JSON.stringify(o.destinations) : null;
  return db.tx(() => {
    const ids = (destinations === null ? db.all(CLAIM_FORWARDS, [o.owner, o.now + o.leaseMs, o.now, o.limit]) : db.all(CLAIM_FORWARDS_TO, [o.owner, o.now + o.leaseMs, o.now, o.limit, destinations])).map((r) =>
      num(r.id, 'id'),
    );
    if (ids.length === 0) return [];
    return db.all(CLAIMED_WITH_BODY, [JSON.stringify(ids)]).map(toClaimedForward);
  });
}

/** Whether the forward's key has another forward waiting, which is now its head. */
function nextIsWaiting(db: SqliteDb, row: Row): boolean {
  return db.all(HAS_PENDING_FORWARD_FOR_KEY, [str(row.destination, 'destination'), str(row.ordering_key, 'ordering_key')]).length > 0;
}

/** Returns whether a later forward of the same key is now at the head (and may be due). */
export function completeForwardSqlite(db: SqliteDb, fwd: ClaimedForward, owner: string): { touched: boolean; next: boolean } {
  return db.tx(() => {
    const [row] = db.all(DELETE_LEASED_FORWARD, [fwd.id, owner]);
    if (!row) return { touched: false, next: false };
    db.run(DELETE_BODY_IF_UNUSED, [num(row.body_id, 'body_id')]);
    return { touched: true, next: nextIsWaiting(db, row) };
  });
}

export function retryForwardSqlite(db: SqliteDb, fwd: ClaimedForward, owner: string, retry: RetryRequest): boolean {
  return db.run(RETRY_FORWARD, retryForwardParams(fwd.id, owner, retry)) > 0;
}

export function deadLetterForwardSqlite(
  db: SqliteDb,
  fwd: ClaimedForward,
  owner: string,
  now: number,
  dead: DeadLetterRequest,
): { touched: boolean; next: boolean } {
  return db.tx(() => {
    const [row] = db.all(DEAD_LETTER_FORWARD, deadForwardParams(fwd.id, owner, now, dead));
    if (!row) return { touched: false, next: false };
    return { touched: true, next: nextIsWaiting(db, row) };
  });
}

/** One transaction: the pending forwards of every destination not in `destinations`, kept as dead letters. */
export function deadLetterForwardsNotToSqlite(db: SqliteDb, destinations: readonly string[], now: number, reasonOf: (destination: string) => string): Map<string, number> {
  return db.tx(() => {
    const counts = new Map<string, number>();
    for (const row of db.all(PENDING_FORWARD_DESTINATIONS)) {
      const destination = str(row.destination, 'destination');
      if (destinations.includes(destination)) continue;
      const n = db.run(DEAD_LETTER_FORWARDS_TO, [now, destination, reasonOf(destination)]);
      if (n > 0) counts.set(destination, n);
    }
    return counts;
  });
}
