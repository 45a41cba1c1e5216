import pg from 'pg';
import { silentLogger } from '../../src/log';
import { createPostgresStore } from '../../src/store/postgres';
import { INSERT_BODIES, INSERT_FORWARDS } from '../../src/store/postgres/accept';
import type { Store } from '../../src/store/store';
import { dropSchema, describePostgres, newSchemaName } from '../helpers/pg-schema';
import { batch, forwardTo } from './builders';
import { claimOn, pausedClaim } from './pg-claims';
import { until } from './pg-waits';

const HOOK = 'http://a.test/hook';

/**
 * Forwards of one key (HOOK, U1) queued at once by two instances: each queueing statement sees
 * nothing of the key waiting, so each marks its forward as the key's head, and the one with the
 * lower id may commit last. Other instances' statements run on connections of their own, in
 * transactions the test holds open (the window between a statement's snapshot and its commit).
 */
describePostgres('PostgreSQL: forwards of one key queued at once by two instances', (url) => {
  let schema: string;
  let store: Store;
  const clients: pg.Client[] = [];
  const connect = async () => {
    const c = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
    clients.push(c);
    await c.connect();
    return c;
  };
  beforeEach(async () => {
    schema = newSchemaName('autotag_fwd_races');
    store = createPostgresStore({ url, schema, log: silentLogger(), poolSize: 4, connectTimeoutMs: 3000, statementTimeoutMs: 10_000 });
    await store.migrate();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.end().catch(() => undefined)));
    await store.close();
    await dropSchema(url, schema);
  });

  /** Queues `body` for the key with the service's own statements, in a transaction left open. */
  async function queueInOpenTx(client: pg.Client, body: string, now: number): Promise<void> {
    await client.query('BEGIN');
    const [{ id }] = (await client.query<{ id: string }>(`SELECT nextval(pg_get_serial_sequence('forward_bodies', 'id')) AS id`)).rows as [{ id: string }];
    await client.query(INSERT_BODIES, [[id], [Buffer.from(body)], ['{}'], [now]]);
    await client.query(INSERT_FORWARDS, [[id], [HOOK], ['U1'], [now]]);
  }
  /** Another instance's claim, with the service's own statements, in a transaction left open. */
  async function claimInOpenTx(client: pg.Client, owner: string, now: number): Promise<string[]> {
    await client.query('BEGIN');
    return claimOn(client, schema, { owner, now, destination: HOOK });
  }
  const claim = async (owner: string, now: number) =>
    (await store.claimForwards({ owner, now, limit: 10, leaseMs: 60_000, destinations: [HOOK] })).map((f) => f.body.toString());
  const forwards = async (client: pg.Client) =>
    (await client.query<{ body: Buffer; head: number; leased: boolean }>(
      `SELECT b.body, f.head, f.leased_until IS NOT NULL AS leased FROM forwards f JOIN forward_bodies b ON b.id = f.body_id ORDER BY f.id`,
    )).rows.map((r) => ({ body: r.body.toString(), head: r.head, leased: r.leased }));

  it('marks both as heads, and sends the later only once the earlier is done, when they commit in id order', async () => {
    const first = await connect();
    await queueInOpenTx(first, 'w1', 1000);
    await store.accept(batch(1001, [], [forwardTo(HOOK, 'U1', Buffer.from('w2'))]));
    await first.query('COMMIT');
    expect(await forwards(first)).toEqual([{ body: 'w1', head: 1, leased: false }, { body: 'w2', head: 1, leased: false }]);
    const [w1] = await store.claimForwards({ owner: 'A', now: 1100, limit: 10, leaseMs: 60_000, destinations: [HOOK] });
    expect(w1?.body.toString()).toBe('w1');
    expect(await claim('B', 1200)).toEqual([]); // w1 in flight
    await store.retryForward(w1!, 'A', 1150, { dueAt: 5000, status: 503 });
    expect(await claim('B', 1300)).toEqual([]); // w1 waits for its next attempt: w2 waits behind it
    const [again] = await store.claimForwards({ owner: 'A', now: 5000, limit: 10, leaseMs: 60_000, destinations: [HOOK] });
    expect(again?.body.toString()).toBe('w1');
    await store.completeForward(again!, 'A', 5001, { status: 200 });
    expect(await claim('B', 5002)).toEqual(['w2']);
  });

  it('never sends both at once when the later one is claimed before the earlier commits, and another claim starts before that lease commits', async () => {
    const first = await connect();
    const other = await connect();
    await queueInOpenTx(first, 'w1', 1000);
    await store.accept(batch(1001, [], [forwardTo(HOOK, 'U1', Buffer.from('w2'))]));
    // Another instance claims w2, the only forward of the key it sees, its lease not yet committed.
    expect(await claimInOpenTx(other, 'B', 1100)).toEqual(['w2']);
    await first.query('COMMIT');
    // A claim that starts now sees w1 lead the key, and nothing of it in flight.
    const meanwhile = await claim('A', 1200);
    await other.query('COMMIT');
    expect({ meanwhile, forwards: await forwards(first) }).toEqual({
      meanwhile: [],
      forwards: [{ body: 'w1', head: 1, leased: false }, { body: 'w2', head: 1, leased: true }],
    });
  });

  it('never sends both at once when that lease commits after the other claim took its snapshot, before it took the key', async () => {
    const [first, other, gate] = [await connect(), await connect(), await connect()];
    await queueInOpenTx(first, 'w1', 1000);
    await store.accept(batch(1001, [], [forwardTo(HOOK, 'U1', Buffer.from('w2'))]));
    expect(await claimInOpenTx(other, 'B', 1100)).toEqual(['w2']);
    await first.query('COMMIT');
    // A claim on `first` that has its snapshot (w1 leads, w2 not leased in it) and waits at the
    // test's gate before it looks at a row; w2's lease commits meanwhile.
    const gateKey = `${schema} gate`;
    await gate.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [gateKey]);
    const [{ pid }] = (await first.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows as [{ pid: number }];
    await first.query('BEGIN');
    let paused: string[] | undefined;
    const claiming = claimOn(first, schema, { owner: 'A', now: 1200, destination: HOOK }, pausedClaim(gateKey)).then((r) => (paused = r));
    await until('the claim waits at the gate', async () => {
      const { rows } = await gate.query<{ n: number }>('SELECT cardinality(pg_blocking_pids($1))::int AS n', [pid]);
      return paused !== undefined || (rows[0]?.n ?? 0) > 0;
    });
    expect(paused).toBeUndefined();
    await other.query('COMMIT');
    await gate.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [gateKey]);
    await claiming;
    await first.query('COMMIT');
    expect({ paused, forwards: await forwards(first) }).toEqual({
      paused: [],
      forwards: [{ body: 'w1', head: 1, leased: false }, { body: 'w2', head: 1, leased: true }],
    });
  });
});
