import type { ClaimedForward, DeadLetterRequest, RetryRequest } from '../store';
import { forwardKeyOf } from '../shared/forward-keys';
import { num, str, type Row } from '../shared/rows';
import { deadForwardParams, retryForwardParams } from '../shared/settle';
import type { ForwardSettled } from '../shared/store-engine';
import { DEAD_LETTER_FORWARDS_TO, markForwardHeads, PENDING_FORWARD_DESTINATIONS } from '../sql/forwards';
import type { Notify, Query } from './db';

/**
 * See markForwardHeads: the heads found by id from an array, and locked in id order before they
 * are marked, as `dead-letters retry` locks the forwards behind the keys it queues again
 * (postgres/forward-requeue.ts) and the dead-lettering of forwards to a destination no longer
 * configured locks its own: two of them locking overlapping rows in different orders could each
 * wait for the other. MARK_HEADS_TO for the destinations $1.
 */
export const byIdAmong = (heads: string) => `
  id = ANY(ARRAY(SELECT l.id FROM forwards l WHERE l.id = ANY(ARRAY(${heads})) AND l.head = 0 AND (l.state = 'pending') IS TRUE ORDER BY l.id FOR UPDATE))`;
export const MARK_HEADS = markForwardHeads(byIdAmong);
export const MARK_HEADS_TO = markForwardHeads(byIdAmong, 'destination = ANY($1::text[])');

/**
 * Marks the heads of `destinations` left unmarked (see markForwardHeads): a forward queued by
 * one transaction while another completed the head of its key can be left unmarked — the
 * queueing saw the head waiting, the completion did not see the new forward — and would never
 * be claimed. Returns how many were marked (0 but for that race).
 */
export async function markForwardHeadsPostgres(q: Query, destinations?: readonly string[]): Promise<number> {
  return (await (destinations ? q(MARK_HEADS_TO, [destinations]) : q(MARK_HEADS))).rowCount;
}

/** $1 ids, $2 owners: the forwards delivered, each under the lease of its owner. */
/**
 * Each of these statements over a list of forwards finds them by id: `f.id = ANY($1)` is the
 * primary key's condition, and `(f.state = 'pending') IS TRUE` (the same test) keeps the
 * partial indexes out of the plan — without statistics, or with ones taken while the table held
 * mostly dead letters, a join with the list was planned as a read of every pending forward of
 * every destination (10–30 ms at 50,000 waiting for a failing one, in every batch).
 */
export const DELETE_LEASED_FORWARDS = `
  DELETE FROM forwards f USING unnest($1::bigint[], $2::text[]) AS x(id, owner)
  WHERE f.id = ANY($1::bigint[]) AND f.id = x.id AND f.lease_owner = x.owner AND (f.state = 'pending') IS TRUE
  RETURNING f.id, f.body_id, f.destination, f.ordering_key`;

/**
 * $1 body ids, locked in id order first (LOCK_BODIES): two instances completing the last two
 * forwards of one body at once would otherwise each see the other's and keep it.
 */
export const LOCK_BODIES = `SELECT id FROM forward_bodies WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE`;
/** A probe of forwards_body per body (a scalar subquery: never turned into a read of the whole table). */
export const DELETE_BODIES_IF_UNUSED = `
  DELETE FROM forward_bodies b
  WHERE b.id = ANY($1::bigint[]) AND (SELECT k.id FROM forwards k WHERE k.body_id = b.id LIMIT 1) IS NULL`;

/** $1 destinations, $2 ordering keys: the id of the forward that leads each key now, by a probe of forwards_heads per key (none: nothing of it waits). */
export const KEY_LEADERS = `
    SELECT (SELECT MIN(k.id) FROM forwards k WHERE k.destination = x.d AND k.ordering_key = x.o AND k.state = 'pending')
    FROM unnest($1::text[], $2::text[]) AS x(d, o)`;

/** $1 destinations, $2 ordering keys: the forward that now leads each key marked (MARK_NEXT_FORWARD_HEAD, for many), found by id. */
export const MARK_NEXT_FORWARD_HEADS = `
  UPDATE forwards SET head = 1
  WHERE id = ANY(ARRAY(${KEY_LEADERS}))
  RETURNING destination, ordering_key`;

/**
 * After forwards of a batch were settled (`settled`: the rows the settle returned — id,
 * destination, ordering key), the forward that now leads each of their keys marked, and other
 * instances woken when one does. One answer per item, in order.
 */
async function markNextHeads(q: Query, items: readonly { fwd: ClaimedForward }[], settled: readonly Row[], notify: Notify): Promise<ForwardSettled[]> {
  const keys = settled.map((r) => [str(r.destination, 'destination'), str(r.ordering_key, 'ordering_key')] as const);
  const marked = (await q(MARK_NEXT_FORWARD_HEADS, [keys.map(([d]) => d), keys.map(([, o]) => o)])).rows;
  const next = new Set(marked.map((r) => forwardKeyOf(str(r.destination, 'destination'), str(r.ordering_key, 'ordering_key'))));
  if (next.size > 0) await notify(q, 'forwards');
  const touched = new Set(settled.map((r) => num(r.id, 'id')));
  return items.map(({ fwd }) => (touched.has(fwd.id) ? { touched: true, next: next.has(forwardKeyOf(fwd.destination, fwd.orderingKey)) } : { touched: false, next: false }));
}

/**
 * Call inside a transaction: delivered forwards settled together — a round trip per statement
 * for all of them, not one per statement for each (a forward's own transaction was six round
 * trips, most of what forwarding cost PostgreSQL and the service's socket writes). One answer
 * per forward, in order; `notify` wakes other instances when a forward now leads its key.
 */
export async function completeForwardsPostgres(
  q: Query,
  items: readonly { fwd: ClaimedForward; owner: string }[],
  notify: Notify,
): Promise<ForwardSettled[]> {
  const done = (await q(DELETE_LEASED_FORWARDS, [items.map((i) => i.fwd.id), items.map((i) => i.owner)])).rows;
  if (done.length === 0) return items.map(() => ({ touched: false, next: false }));
  const bodies = [...new Set(done.map((r) => num(r.body_id, 'body_id')))];
  await q(LOCK_BODIES, [bodies]);
  await q(DELETE_BODIES_IF_UNUSED, [bodies]);
  return markNextHeads(q, items, done, notify);
}

/**
 * $1 ids, $2 owners, $3 due times, $4 statuses, $5 errors, $6 body excerpts: RETRY_FORWARD for
 * many, each under the lease of its owner. Returns the ids it retimed.
 */
export const RETRY_FORWARDS = `
  UPDATE forwards f SET
    attempts = f.attempts + 1,
    due_at = x.due_at,
    lease_owner = NULL,
    leased_until = NULL,
    last_status = x.status,
    last_error = x.error,
    last_body_excerpt = x.excerpt
  FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::int[], $5::text[], $6::text[]) AS x(id, owner, due_at, status, error, excerpt)
  WHERE f.id = ANY($1::bigint[]) AND f.id = x.id AND f.lease_owner = x.owner AND (f.state = 'pending') IS TRUE
  RETURNING f.id`;

/**
 * Failed forwards retimed together, one statement for all (a failing destination's forwards
 * fail as fast as they are sent: one statement each was most of what it cost PostgreSQL).
 * One answer per forward, in order: whether this owner still held it.
 */
export async function retryForwardsPostgres(q: Query, items: readonly { fwd: ClaimedForward; owner: string; retry: RetryRequest }[]): Promise<boolean[]> {
  const columns: (string | number | null)[][] = [[], [], [], [], [], []];
  for (const { fwd, owner, retry } of items) retryForwardParams(fwd.id, owner, retry).forEach((value, i) => columns[i]?.push(value));
  const retimed = new Set((await q(RETRY_FORWARDS, columns)).rows.map((r) => num(r.id, 'id')));
  return items.map(({ fwd }) => retimed.has(fwd.id));
}

/**
 * $1 ids, $2 owners, $3 times, $4 reasons, $5 attempts to add, $6 statuses, $7 errors, $8 body
 * excerpts: DEAD_LETTER_FORWARD for many, each under the lease of its owner, found by id as the
 * settles above. Returns what it kept, with their keys.
 */
export const DEAD_LETTER_LEASED_FORWARDS = `
  UPDATE forwards f SET
    state = 'dead',
    dead_reason = x.reason,
    dead_at = x.at,
    attempts = f.attempts + x.attempts,
    lease_owner = NULL,
    leased_until = NULL,
    last_status = x.status,
    last_error = x.error,
    last_body_excerpt = x.excerpt
  FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::int[], $6::int[], $7::text[], $8::text[])
    AS x(id, owner, at, reason, attempts, status, error, excerpt)
  WHERE f.id = ANY($1::bigint[]) AND f.id = x.id AND f.lease_owner = x.owner AND (f.state = 'pending') IS TRUE
  RETURNING f.id, f.destination, f.ordering_key`;

/**
 * Call inside a transaction: forwards given up together kept as dead letters together (a
 * destination down past FORWARD_GIVE_UP_MS gives up as many a second as webhooks came: one
 * transaction of four round trips each was the next cost after the completions and retries),
 * and the forward that now leads each key marked. One answer per forward, in order.
 */
export async function deadLetterForwardsPostgres(
  q: Query,
  items: readonly { fwd: ClaimedForward; owner: string; now: number; dead: DeadLetterRequest }[],
  notify: Notify,
): Promise<ForwardSettled[]> {
  const columns: (string | number | null)[][] = [[], [], [], [], [], [], [], []];
  for (const { fwd, owner, now, dead } of items) deadForwardParams(fwd.id, owner, now, dead).forEach((value, i) => columns[i]?.push(value));
  const kept = (await q(DEAD_LETTER_LEASED_FORWARDS, columns)).rows;
  if (kept.length === 0) return items.map(() => ({ touched: false, next: false }));
  return markNextHeads(q, items, kept, notify);
}

/**
 * $1 destinations, $2 now: the forwards DEAD_LETTER_FORWARDS_TO keeps for them locked first, all
 * together in id order (see byIdAmong), not destination by destination in index order.
 */
export const LOCK_FORWARDS_TO = `
  SELECT count(*)::int AS n FROM (
    SELECT id FROM forwards
    WHERE destination = ANY($1::text[]) AND state = 'pending' AND (leased_until IS NULL OR leased_until <= $2)
    ORDER BY id FOR UPDATE) locked`;

/** Call inside a transaction: the pending forwards of every destination not in `destinations`, kept as dead letters. */
export async function deadLetterForwardsNotToPostgres(q: Query, destinations: readonly string[], now: number, reasonOf: (destination: string) => string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const gone = (await q(PENDING_FORWARD_DESTINATIONS)).rows.map((row) => str(row.destination, 'destination')).filter((d) => !destinations.includes(d));
  if (gone.length > 0) await q(LOCK_FORWARDS_TO, [gone, now]);
  for (const destination of gone) {
    const n = (await q(DEAD_LETTER_FORWARDS_TO, [now, destination, reasonOf(destination)])).rowCount;
    if (n > 0) counts.set(destination, n);
  }
  return counts;
}
