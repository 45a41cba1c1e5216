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

/**
 * $1 destination, $2 ordering key: the forward that now leads the key (its oldest pending one)
 * marked as its head — after the one before it was delivered or kept as a dead letter. No row:
 * nothing of the key waits.
 */
export const MARK_NEXT_FORWARD_HEAD = `
  UPDATE forwards SET head = 1
  WHERE id = (SELECT MIN(id) FROM forwards WHERE destination = $1 AND ordering_key = $2 AND state = 'pending')
  RETURNING id`;

/**
 * Whether forward `f` (a table alias) is the head of its (destination, ordering key) now: its
 * oldest unfinished forward. Only heads may be sent, and only while no other forward of their
 * key is being sent (noForwardOfKeyInFlight), so one key's forwards go out one at a time, in
 * order.
 * Asked of the rows marked `head` only: the mark says where to look (forwards_due_heads), this
 * says whether it may go.
 * A mark is set when a forward is queued with none of its key waiting, and on the next one when
 * the head is done (MARK_NEXT_FORWARD_HEAD), so every key's head is marked; a mark may stay on a
 * forward that no longer leads (a dead letter of its key queued again ahead of it, two forwards
 * of one key queued at once by two instances), and this keeps it waiting. One probe of
 * forwards_heads per row (a correlated subquery: no plan turns it into a read of the backlog).
 */
export const isForwardHead = (f: string) => `
  ${f}.id = (SELECT MIN(k.id) FROM forwards k WHERE k.state = 'pending' AND k.destination = ${f}.destination AND k.ordering_key = ${f}.ordering_key)`;

/**
 * That no forward of `f`'s key (a table alias) is leased — being sent — so `f` may go if it
 * leads the key: a dead letter queued again, or a forward of the key committed late by another
 * instance, comes back ahead of a later forward already in flight, and one key's forwards go
 * one at a time. `destinations` (a condition on `destination`) narrows the leases looked at to
 * the destinations the statement is about; `now` counts only the leases that have not ended
 * by a claim's now, `leaseEnd` when the engine's claims see a lease end earlier than at
 * `leased_until` (an expression over the leased row's unqualified columns, see
 * postgres/liveness.ts). Without `now` every lease counts: the next-due check has none, and
 * finds such a head's time through the lease instead (sql/views.ts).
 * The keys of the calls in flight are read once, through forwards_leased, and each row is
 * looked up among them: a handful, whatever waits. Not an EXISTS on the row's key: PostgreSQL
 * planned it through forwards_heads once its statistics showed a key with many forwards
 * waiting, and read every one of them at each next-due check (a key is shared by many webhooks
 * when it is their recipient; test/store/postgres-forward-plans.test.ts). Nor correlated on the
 * row's destination: PostgreSQL may then read the calls in flight again for every head a claim
 * passes, the heads in flight among them.
 */
export function noForwardOfKeyInFlight(f: string, o: { destinations?: string; now?: string; leaseEnd?: string } = {}): string {
  const running = o.now ? ` AND l.leased_until > ${o.now}${o.leaseEnd ? ` AND ${o.leaseEnd} > ${o.now}` : ''}` : '';
  return `
  (${f}.destination, ${f}.ordering_key) NOT IN (SELECT l.destination, l.ordering_key FROM forwards l
    WHERE l.state = 'pending' AND l.leased_until IS NOT NULL${o.destinations ? ` AND l.${o.destinations}` : ''}${running})`;
}

/**
 * Marks the head of every key that has none marked (`condition`, on `destination`, narrows it to
 * some destinations): on PostgreSQL now and then in case a head was done while a forward of its
 * key was being queued by another transaction (the queueing saw the head, the head's completion
 * did not see the new forward); SQLite, one writer, has no such race. Reads every pending forward
 * it covers, once. `among` says how the heads gathered by a subquery are found by id: PostgreSQL
 * needs `id = ANY(ARRAY(…))` — its planner, with statistics taken while the table held mostly dead
 * letters, or none, turned `id IN (…)` into a semi-join that grouped the backlog again for every
 * row (minutes at 20,000). Dead letters queued again mark the heads of their own keys only
 * (postgres/forward-requeue.ts, sqlite/forwards.ts).
 */
export function markForwardHeads(among: (heads: string) => string, condition?: string): string {
  const heads = `SELECT MIN(id) FROM forwards WHERE state = 'pending'${condition ? ` AND ${condition}` : ''} GROUP BY destination, ordering_key`;
  return `
  UPDATE forwards SET head = 1
  WHERE ${among(heads)} AND head = 0 AND state = 'pending'`;
}
