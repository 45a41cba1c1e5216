import type { ClaimOptions, ClaimedForward, DeadLetterRequest, RetryRequest } from '../store';
import { num, str, toClaimedForward, type Row } from '../shared/rows';
import { deadForwardParams, retryForwardParams } from '../shared/settle';
import type { ForwardSettled } from '../shared/store-engine';
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
import type { Notify, Query } from './db';
import { LEASE_END } from './liveness';

/**
 * Heads only (see FORWARD_HEAD_IDS), due and not leased, SKIP LOCKED as for operations: of
 * every destination, or of those `destinations` names (a condition on `destination`) — then only
 * their heads are read (a claim for one destination must not cost in proportion to another's
 * backlog; CONTRACT.md: "one destination's failures never delay another destination"). $6 and
 * $7 the holder and call deadline, as for operations.
 */
const claimForwards = (destinations?: string) => `
  UPDATE forwards f SET lease_owner = $1, leased_until = $2, lease_holder = $6, call_deadline = $7
  FROM (
    SELECT id FROM forwards
    WHERE state = 'pending' AND id IN (${destinations ? forwardHeadIdsWhere(destinations) : FORWARD_HEAD_IDS})
      AND due_at <= $3 AND (leased_until IS NULL OR ${LEASE_END} <= $3)
      AND ${destinations ?? '$5::text[] IS NULL'}
    ORDER BY id
    LIMIT $4
    FOR UPDATE SKIP LOCKED
  ) picked, forward_bodies b
  WHERE f.id = picked.id AND b.id = f.body_id
  RETURNING f.*, b.body, b.headers`;
const CLAIM_FORWARDS = claimForwards();
/** For the destinations of $5. */
const CLAIM_FORWARDS_TO = claimForwards('destination = ANY($5::text[])');

export async function claimForwardsPostgres(
  q: Query,
  o: ClaimOptions & { destinations?: string[] },
  holder: string | undefined,
): Promise<ClaimedForward[]> {
  const { rows } = await q(o.destinations ? CLAIM_FORWARDS_TO : CLAIM_FORWARDS, [
    o.owner, o.now + o.leaseMs, o.now, o.limit, o.destinations ?? null, holder ?? null, o.callMs === undefined ? null : o.now + o.callMs,
  ]);
  return rows.sort((a, b) => num(a.id, 'id') - num(b.id, 'id')).map(toClaimedForward);
}

async function nextIsWaiting(q: Query, row: Row): Promise<boolean> {
  const { rows } = await q(HAS_PENDING_FORWARD_FOR_KEY, [str(row.destination, 'destination'), str(row.ordering_key, 'ordering_key')]);
  return rows.length > 0;
}

/** Call inside a transaction; `notify` wakes other instances for the forward that now leads its key. */
export async function completeForwardPostgres(
  q: Query,
  fwd: ClaimedForward,
  owner: string,
  notify: Notify,
): Promise<ForwardSettled> {
  const [row] = (await q(DELETE_LEASED_FORWARD, [fwd.id, owner])).rows;
  if (!row) return { touched: false, next: false };
  const bodyId = num(row.body_id, 'body_id');
  // Lock the body before asking whether it is still used: two instances completing the
  // last two forwards of one body at once would otherwise each see the other's and keep it.
  await q('SELECT id FROM forward_bodies WHERE id = $1 FOR UPDATE', [bodyId]);
  await q(DELETE_BODY_IF_UNUSED, [bodyId]);
  const next = await nextIsWaiting(q, row);
  if (next) await notify(q, 'forwards');
  return { touched: true, next };
}

export async function retryForwardPostgres(q: Query, fwd: ClaimedForward, owner: string, retry: RetryRequest): Promise<boolean> {
  return (await q(RETRY_FORWARD, retryForwardParams(fwd.id, owner, retry))).rowCount > 0;
}

/** Call inside a transaction. */
export async function deadLetterForwardPostgres(
  q: Query,
  fwd: ClaimedForward,
  owner: string,
  now: number,
  dead: DeadLetterRequest,
  notify: Notify,
): Promise<ForwardSettled> {
  const [row] = (await q(DEAD_LETTER_FORWARD, deadForwardParams(fwd.id, owner, now, dead))).rows;
  if (!row) return { touched: false, next: false };
  const next = await nextIsWaiting(q, row);
  if (next) await notify(q, 'forwards');
  return { touched: true, next };
}

/** Call inside a transaction: the pending forwards of every destination not in `destinations`, kept as dead letters. */
export async function deadLetterForwardsNotToPostgres(q: Query, destinations: readonly string[], now: number, reasonOf: (destination: string) => string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const row of (await q(PENDING_FORWARD_DESTINATIONS)).rows) {
    const destination = str(row.destination, 'destination');
    if (destinations.includes(destination)) continue;
    const n = (await q(DEAD_LETTER_FORWARDS_TO, [now, destination, reasonOf(destination)])).rowCount;
    if (n > 0) counts.set(destination, n);
  }
  return counts;
}
