import { forwardKeysOf } from '../shared/forward-keys';
import { num, type Row } from '../shared/rows';
import { REQUEUE_ALL_DEAD_FORWARDS, REQUEUE_DEAD_FORWARD } from '../sql/views';
import type { Query } from './db';
import { byIdAmong, KEY_LEADERS } from './forwards';

/**
 * $1 now (and $2 the id, for one): dead forwards queued again (REQUEUE_ALL_DEAD_FORWARDS,
 * REQUEUE_DEAD_FORWARD), and the other pending forwards of their keys locked and their head marks
 * cleared — a forward queued again leads its key now (MARK_REQUEUED_HEADS marks it next). One row
 * per key queued again: the key, and how many of its forwards were.
 * The marks alone would not need it (a stale one costs a claim a probe, see isForwardHead); the
 * locks close a race. A claim whose snapshot predates this commit saw a forward behind the dead
 * one lead its key, and could lease it; a claim that started after the commit, that lease not
 * committed yet, saw the queued-again one lead and nothing of the key in flight, and leased it
 * too: two forwards of one key sent at once, out of order. Now the first claim's lock on the
 * later forward is taken before this (this waits for its commit, and every claim after sees the
 * lease), or skips it while this holds it (SKIP LOCKED), or finds it updated after: under READ
 * COMMITTED PostgreSQL checks the claim's conditions again on the new row, unmarked, and passes
 * over it (test/store/postgres.test.ts holds both orders). Every pending forward of the keys is
 * locked, not only the marked ones: one that a settle of its key marks once this statement has
 * its snapshot (unmarked in it) is locked here too, and unmarked. In id order, as settles lock
 * the forwards they end and then those they mark, so neither waits for the other in a cycle.
 */
const requeueForwardsPostgres = (requeue: string) => `
  WITH requeued AS (${requeue}),
  behind AS (
    SELECT f.id, f.head FROM forwards f
    WHERE f.id = ANY(ARRAY(
      SELECT unnest(ARRAY(SELECT k.id FROM forwards k WHERE k.state = 'pending' AND k.destination = r.destination AND k.ordering_key = r.ordering_key))
      FROM (SELECT DISTINCT destination, ordering_key FROM requeued) r))
      AND (f.state = 'pending') IS TRUE
    ORDER BY f.id
    FOR UPDATE
  ),
  unmarked AS (UPDATE forwards SET head = 0 WHERE id = ANY(ARRAY(SELECT id FROM behind WHERE head = 1)))
  SELECT destination, ordering_key, count(*)::int AS n FROM requeued GROUP BY destination, ordering_key`;
export const REQUEUE_ALL_DEAD_FORWARDS_POSTGRES = requeueForwardsPostgres(REQUEUE_ALL_DEAD_FORWARDS);
export const REQUEUE_DEAD_FORWARD_POSTGRES = requeueForwardsPostgres(REQUEUE_DEAD_FORWARD);

/**
 * $1 destinations, $2 ordering keys (the keys queued again): the forward that leads each marked,
 * found by a probe of forwards_heads per key and locked in id order (byIdAmong), as the periodic
 * look for unmarked heads locks the heads it marks. The keys' own forwards only, not the
 * table's: a look over every key here read and locked every unmarked head after this
 * transaction already held the forwards of its keys, which a look running at the same time could
 * meet in the other order; and it was most of what `dead-letters retry --all` cost.
 * The leader of a key is one the requeue locked (a forward queued again, or one behind it): one
 * queued since has a later id than the dead letter queued again.
 * No `state = 'pending'` outside byIdAmong (it checks the rows it locks): with it PostgreSQL read
 * every pending forward through forwards_heads to find the few by id (50,000 for 100 keys).
 */
export const MARK_REQUEUED_HEADS = `UPDATE forwards SET head = 1 WHERE ${byIdAmong(KEY_LEADERS)}`;

/**
 * Call inside a transaction: every dead forward (`all`) or those of `ids` queued again, and the
 * head of each of their keys marked. Returns how many were queued.
 */
export async function requeueDeadForwardsPostgres(q: Query, ids: 'all' | readonly number[], now: number): Promise<number> {
  let keys: Row[] = [];
  if (ids === 'all') keys = (await q(REQUEUE_ALL_DEAD_FORWARDS_POSTGRES, [now])).rows;
  else for (const id of ids) keys = keys.concat((await q(REQUEUE_DEAD_FORWARD_POSTGRES, [now, id])).rows);
  if (keys.length === 0) return 0;
  const { destinations, orderingKeys } = forwardKeysOf(keys);
  await q(MARK_REQUEUED_HEADS, [destinations, orderingKeys]);
  return keys.reduce((n, row) => n + num(row.n, 'n'), 0);
}
