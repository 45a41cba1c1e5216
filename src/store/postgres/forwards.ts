import type { ClaimOptions, ClaimedForward, DeadLetterRequest, RetryRequest } from '../store';
import { num, str, toClaimedForward, type Row } from '../shared/rows';
import { deadForwardParams, retryForwardParams } from '../shared/settle';
import type { ForwardSettled } from '../shared/store-engine';
import {
  DEAD_LETTER_FORWARD,
  DEAD_LETTER_FORWARDS_TO,
  DELETE_BODY_IF_UNUSED,
  DELETE_LEASED_FORWARD,
  isForwardHead,
  MARK_NEXT_FORWARD_HEAD,
  markForwardHeads,
  PENDING_FORWARD_DESTINATIONS,
  RETRY_FORWARD,
} from '../sql/forwards';
import type { Notify, Query } from './db';
import { LEASE_END } from './liveness';

/**
 * Heads only (see isForwardHead), due and not leased, SKIP LOCKED as for operations: of every
 * destination, or of those `destinations` names (a condition on `destination`). Read through
 * forwards_due_heads: the marked heads that are due, earliest first, each checked to lead its
 * key — not the destination's whole backlog, nor another destination's (CONTRACT.md: "one
 * destination's failures never delay another destination"). $6 and $7 the holder and call
 * deadline, as for operations.
 */
const claimForwards = (destinations?: string) => `
  UPDATE forwards f SET lease_owner = $1, leased_until = $2, lease_holder = $6, call_deadline = $7
  FROM (
    SELECT c.id FROM forwards c
    WHERE c.state = 'pending' AND c.head = 1 AND ${destinations ? `c.${destinations}` : '$5::text[] IS NULL'}
      AND c.due_at <= $3 AND (c.leased_until IS NULL OR ${LEASE_END} <= $3)
      AND ${isForwardHead('c')}
    ORDER BY c.due_at, c.id
    LIMIT $4
    FOR UPDATE SKIP LOCKED
  ) picked, forward_bodies b
  WHERE f.id = picked.id AND b.id = f.body_id
  RETURNING f.*, b.body, b.headers`;
const CLAIM_FORWARDS = claimForwards();
/** For destination $5: its due heads in index order, no sort (what a destination's loop asks). */
export const CLAIM_FORWARDS_TO = claimForwards('destination = $5::text');
/** For the destinations of $5. */
const CLAIM_FORWARDS_TO_ANY = claimForwards('destination = ANY($5::text[])');
/** See markForwardHeads; $1 the destinations. */
const MARK_HEADS = markForwardHeads();
const MARK_HEADS_TO = markForwardHeads('destination = ANY($1::text[])');

export async function claimForwardsPostgres(
  q: Query,
  o: ClaimOptions & { destinations?: string[] },
  holder: string | undefined,
): Promise<ClaimedForward[]> {
  const one = o.destinations?.length === 1 ? o.destinations[0] : undefined;
  const { rows } = await q(one !== undefined ? CLAIM_FORWARDS_TO : o.destinations ? CLAIM_FORWARDS_TO_ANY : CLAIM_FORWARDS, [
    o.owner, o.now + o.leaseMs, o.now, o.limit, one ?? o.destinations ?? null, holder ?? null, o.callMs === undefined ? null : o.now + o.callMs,
  ]);
  return rows.sort((a, b) => num(a.id, 'id') - num(b.id, 'id')).map(toClaimedForward);
}

/** Marks the forward of the key that now leads it, if one waits; returns whether one does. */
async function markNextHead(q: Query, row: Row): Promise<boolean> {
  const { rows } = await q(MARK_NEXT_FORWARD_HEAD, [str(row.destination, 'destination'), str(row.ordering_key, 'ordering_key')]);
  return rows.length > 0;
}

/**
 * Marks the heads of `destinations` left unmarked (see markForwardHeads): a forward queued by
 * one transaction while another completed the head of its key can be left unmarked — the
 * queueing saw the head waiting, the completion did not see the new forward — and would never
 * be claimed. Returns how many were marked (0 but for that race).
 */
export async function markForwardHeadsPostgres(q: Query, destinations?: readonly string[]): Promise<number> {
  return (await (destinations ? q(MARK_HEADS_TO, [destinations]) : q(MARK_HEADS))).rowCount;
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
  const next = await markNextHead(q, row);
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
  const next = await markNextHead(q, row);
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
