import pg from 'pg';
import { CLAIM_FORWARDS_TO } from '../../src/store/postgres/forward-claim';
import {
  DEAD_LETTER_LEASED_FORWARDS,
  DELETE_BODIES_IF_UNUSED,
  DELETE_LEASED_FORWARDS,
  MARK_HEADS,
  MARK_HEADS_TO,
  MARK_NEXT_FORWARD_HEADS,
  RETRY_FORWARDS,
} from '../../src/store/postgres/forwards';
import { MARK_REQUEUED_HEADS, REQUEUE_ALL_DEAD_FORWARDS_POSTGRES, REQUEUE_DEAD_FORWARD_POSTGRES } from '../../src/store/postgres/forward-requeue';
import { NEXT_DUE } from '../../src/store/postgres/views';
import type { Store } from '../../src/store/store';
import { dropSchema, describePostgres, newSchemaName } from '../helpers/pg-schema';
import { planNodes, planOf, planStore, rowsRead, type PlanNode } from './backlog';

const FAILING = 'https://failing.example/hook';
const KEYS = 2500;
const PENDING = 2 * KEYS;

/**
 * A store in a schema of its own for one describe block, autovacuum off, with `dead` dead letters
 * of another destination and bodies for `bodies` forwards; `fill` adds the block's forwards
 * (ids after the dead letters). Returns `forwardsRead`: the rows of forwards a statement reads,
 * by EXPLAIN ANALYZE in a transaction rolled back.
 */
function planSuite(url: string, name: string, o: { dead: number; bodies: number; fill: (client: pg.Client) => Promise<void> }) {
  const schema = newSchemaName(name);
  let store: Store | undefined;
  let client: pg.Client | undefined;
  beforeAll(async () => {
    ({ store, client } = await planStore(url, schema));
    await client.query('ALTER TABLE forwards SET (autovacuum_enabled = false)');
    await client.query(`INSERT INTO forward_bodies (id, body, headers, received_at) SELECT g, 'x', '{}', 1 FROM generate_series(1, ${o.bodies}) g`);
    await client.query(`
      INSERT INTO forwards (id, body_id, destination, ordering_key, state, received_at, due_at, attempts, head, dead_at, dead_reason)
      SELECT g, g, 'https://other.example/hook', 'D' || g, 'dead', 1, 1, 5, 0, 1, 'gave up' FROM generate_series(1, ${o.dead}) g`);
    await o.fill(client);
  }, 60_000);
  afterAll(async () => {
    await client?.end();
    await store?.close();
    await dropSchema(url, schema);
  });
  /** `before`: a statement run first in the same transaction (its rows are the test's). */
  const analyze = async (sql: string, params: unknown[], before?: { sql: string; params: unknown[] }): Promise<PlanNode> => {
    const c = client as pg.Client;
    await c.query('BEGIN');
    try {
      if (before) await c.query(before.sql, before.params);
      return planOf((await c.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params)).rows);
    } finally {
      await c.query('ROLLBACK');
    }
  };
  return {
    forwardsRead: async (sql: string, params: unknown[], before?: { sql: string; params: unknown[] }): Promise<number> =>
      rowsRead(await analyze(sql, params, before), 'forwards'),
    /** Rows every step of the plan handled, those its filters and joins removed included, every loop. */
    rowsHandled: async (sql: string, params: unknown[]): Promise<number> =>
      planNodes(await analyze(sql, params)).reduce(
        (sum, n) => sum + ((n['Actual Rows'] ?? 0) + (n['Rows Removed by Filter'] ?? 0) + (n['Rows Removed by Join Filter'] ?? 0)) * (n['Actual Loops'] ?? 1),
        0,
      ),
  };
}

/**
 * The statements the worker runs over many forwards at once must read what they are about, not a
 * failing destination's backlog, whatever the planner believes about the table. The statistics
 * here were taken when the table held dead letters only (a healthy spell), as autovacuum would
 * have done; then a destination fails and 5,000 forwards wait for it. An `id IN (grouped heads)`
 * was planned as a semi-join that grouped the backlog again for every row (the look for unmarked
 * heads failed every claim of the destination on its statement timeout, at 20,000; `dead-letters
 * retry` took minutes), and a join of the settled ids with the table read every pending forward
 * in every batch.
 */
describePostgres('PostgreSQL: statements over many forwards, beside a backlog the statistics have not seen', (url) => {
  const { forwardsRead } = planSuite(url, 'autotag_fwd_plans', {
    dead: 500,
    bodies: PENDING + 500,
    fill: async (client) => {
      await client.query('ANALYZE forwards');
      // Each key's first forward marked, and retried far ahead; the second behind it.
      await client.query(
        `INSERT INTO forwards (id, body_id, destination, ordering_key, state, received_at, due_at, attempts, head)
         SELECT 500 + g, 500 + g, $1, 'U' || ((g - 1) % ${KEYS}), 'pending', 1000 + g,
           CASE WHEN g <= ${KEYS} THEN 1e12 ELSE 1000 + g END, 0, CASE WHEN g <= ${KEYS} THEN 1 ELSE 0 END
         FROM generate_series(1, ${PENDING}) g`,
        [FAILING],
      );
    },
  });

  it('looks for unmarked heads reading the backlog once, for a destination and for all', async () => {
    // Once to gather the heads (through forwards_heads), and once more at most to find them by id.
    expect(await forwardsRead(MARK_HEADS_TO, [[FAILING]])).toBeLessThan(3 * PENDING);
    expect(await forwardsRead(MARK_HEADS, [])).toBeLessThan(3 * (PENDING + 500));
  });

  it('settles a batch of 64 forwards (delivered, retried, given up) reading those 64, not the backlog', async () => {
    const ids = Array.from({ length: 64 }, (_, i) => 501 + i);
    const owners = ids.map(() => 'w');
    expect(await forwardsRead(DELETE_LEASED_FORWARDS, [ids, owners])).toBeLessThan(4 * ids.length);
    expect(await forwardsRead(RETRY_FORWARDS, [ids, owners, ids.map(() => 5000), ids.map(() => 503), ids.map(() => null), ids.map(() => null)])).toBeLessThan(4 * ids.length);
    const none = ids.map(() => null);
    expect(await forwardsRead(DEAD_LETTER_LEASED_FORWARDS, [ids, owners, ids.map(() => 5000), ids.map(() => 'gave up'), ids.map(() => 1), ids.map(() => 503), none, none])).toBeLessThan(4 * ids.length);
    // One probe of forwards_body per body, one of forwards_heads per key.
    expect(await forwardsRead(DELETE_BODIES_IF_UNUSED, [ids])).toBeLessThan(4 * ids.length);
    expect(await forwardsRead(MARK_NEXT_FORWARD_HEADS, [ids.map(() => FAILING), ids.map((_, i) => `U${i}`)])).toBeLessThan(4 * ids.length);
  });
});

const BUSY = 'https://busy.example/hook';
const DEAD = 500;
const WAITING = 5000;
const IN_FLIGHT = 32;

/**
 * A head may go only while no forward of its key is in flight. Asked as an EXISTS over the
 * head's key, PostgreSQL read it through forwards_heads once its statistics showed a key with
 * many forwards waiting (one shared by many webhooks, as a recipient's is): every one of them,
 * at each claim and next-due check (5,000 here). The keys of the calls in flight are read once
 * instead.
 */
describePostgres('PostgreSQL: a forward claim and next-due check beside one key holding the backlog, with calls in flight', (url) => {
  const { forwardsRead } = planSuite(url, 'autotag_fwd_key_plans', {
    dead: DEAD,
    bodies: DEAD + WAITING + IN_FLIGHT,
    fill: async (client) => {
      // One key's head, due and free, and the forwards waiting behind it; other keys' heads being sent.
      await client.query(
        `INSERT INTO forwards (id, body_id, destination, ordering_key, state, received_at, due_at, attempts, head)
         SELECT ${DEAD} + g, ${DEAD} + g, $1, 'R1', 'pending', 1000 + g, 1000 + g, 0, CASE WHEN g = 1 THEN 1 ELSE 0 END FROM generate_series(1, ${WAITING}) g`,
        [BUSY],
      );
      await client.query(
        `INSERT INTO forwards (id, body_id, destination, ordering_key, state, received_at, due_at, attempts, head, lease_owner, leased_until)
         SELECT ${DEAD + WAITING} + g, ${DEAD + WAITING} + g, $1, 'U' || g, 'pending', 1000, 1000, 0, 1, 'w', 1e12 FROM generate_series(1, ${IN_FLIGHT}) g`,
        [BUSY],
      );
      await client.query('ANALYZE forwards');
    },
  });

  it('claims the free head reading the calls in flight a few times, not the forwards of its key', async () => {
    // The heads in flight (passed over), their keys once, the head's probe, the row claimed.
    expect(await forwardsRead(CLAIM_FORWARDS_TO.pick, [2000, 8, BUSY, 'autotag:lock:plans:forward-key:'])).toBeLessThan(4 * IN_FLIGHT);
    // Its lease, checked again: the row by id, the calls in flight once, the head's probe.
    expect(await forwardsRead(CLAIM_FORWARDS_TO.lease, ['w2', 1e12, 2000, [DEAD + 1], BUSY, null, null])).toBeLessThan(2 * IN_FLIGHT);
  });

  it('tells the next due time reading the calls in flight a few times, not the forwards of its key', async () => {
    // As above, and each lease with its key's head.
    expect(await forwardsRead(NEXT_DUE.destinationForwards, [BUSY])).toBeLessThan(8 * IN_FLIGHT);
  });
});

const REQUEUED = 5000;

/**
 * `dead-letters retry --all` locks the pending forwards of the keys it queues again (see
 * REQUEUE_ALL_DEAD_FORWARDS_POSTGRES), found by a probe of forwards_heads per key. Found by a
 * join of the keys with the table instead, with statistics taken while the table held dead
 * letters only, PostgreSQL compared every pending forward with every letter queued again once
 * the table had grown: 80–99 s for 50,000 of them, two of each key, with two forwards waiting
 * behind each key (where the join took 6–7 s before). At this size it chose a hash join, which
 * passes here too: this bounds what the statement handles, the measurement is in the commit.
 */
describePostgres('PostgreSQL: every dead letter queued again, with forwards waiting behind their keys that the statistics have not seen', (url) => {
  const { rowsHandled } = planSuite(url, 'autotag_fwd_requeue_plans', {
    dead: 0,
    bodies: 2 * REQUEUED,
    fill: async (client) => {
      const key = `'U' || (g % ${REQUEUED / 2})`;
      await client.query(`
        INSERT INTO forwards (id, body_id, destination, ordering_key, state, received_at, due_at, attempts, head, dead_at, dead_reason)
        SELECT g, g, $1, ${key}, 'dead', 1, 1, 5, 0, 1, 'gave up' FROM generate_series(1, ${REQUEUED}) g`, [FAILING]);
      await client.query('ANALYZE forwards');
      // Two forwards waiting behind each key, the first marked as its head.
      await client.query(
        `INSERT INTO forwards (id, body_id, destination, ordering_key, state, received_at, due_at, attempts, head)
         SELECT ${REQUEUED} + g, ${REQUEUED} + g, $1, ${key}, 'pending', 2, 2, 0, CASE WHEN g <= ${REQUEUED / 2} THEN 1 ELSE 0 END
         FROM generate_series(1, ${REQUEUED}) g`, [FAILING]);
    },
  });

  it('queues them again handling each letter and each forward behind them a few times, not each pair', async () => {
    // 55,000 here: the letters, their keys, and the forwards behind them, each a few times.
    expect(await rowsHandled(REQUEUE_ALL_DEAD_FORWARDS_POSTGRES, [5000])).toBeLessThan(20 * 2 * REQUEUED);
  });
});

const FEW = 100;

/**
 * `dead-letters retry` of a few letters beside a large table reads their keys' forwards, not the
 * table: it marked the head of every key once (a read of every pending forward, and a lock on
 * every unmarked head), which is now the look's to do (see MARK_REQUEUED_HEADS). The statistics
 * were taken when the table held the letters only.
 */
describePostgres('PostgreSQL: a few dead letters queued again beside many forwards of other keys that the statistics have not seen', (url) => {
  const { forwardsRead } = planSuite(url, 'autotag_fwd_requeue_few_plans', {
    dead: FEW,
    bodies: FEW + FEW + PENDING,
    fill: async (client) => {
      await client.query('ANALYZE forwards');
      // One forward waiting behind each letter's key (marked, it led while the letter was dead); two of each other key.
      await client.query(
        `INSERT INTO forwards (id, body_id, destination, ordering_key, state, received_at, due_at, attempts, head)
         SELECT ${FEW} + g, ${FEW} + g, 'https://other.example/hook', 'D' || g, 'pending', 2, 2, 0, 1 FROM generate_series(1, ${FEW}) g`,
      );
      await client.query(
        `INSERT INTO forwards (id, body_id, destination, ordering_key, state, received_at, due_at, attempts, head)
         SELECT ${2 * FEW} + g, ${2 * FEW} + g, $1, 'U' || ((g - 1) % ${KEYS}), 'pending', 2, 2, 0, CASE WHEN g <= ${KEYS} THEN 1 ELSE 0 END
         FROM generate_series(1, ${PENDING}) g`,
        [FAILING],
      );
    },
  });

  it('queues one again reading its key, and marks the heads of the keys queued again reading theirs', async () => {
    // The letter by id, its key's forwards through forwards_heads, each by id.
    expect(await forwardsRead(REQUEUE_DEAD_FORWARD_POSTGRES, [5000, 1])).toBeLessThan(10);
    // After all of them are queued again: a probe per key, each leader by id to lock it, and to mark it.
    const keys = Array.from({ length: FEW }, (_, i) => `D${i + 1}`);
    const requeued = { sql: REQUEUE_ALL_DEAD_FORWARDS_POSTGRES, params: [5000] };
    expect(await forwardsRead(MARK_REQUEUED_HEADS, [keys.map(() => 'https://other.example/hook'), keys], requeued)).toBeLessThan(5 * FEW);
  });
});
