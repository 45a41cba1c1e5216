import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { silentLogger } from '../../src/log';
import { createPostgresStore } from '../../src/store/postgres';
import { createSqliteStore } from '../../src/store/sqlite';
import Database from '../../src/store/sqlite/driver';
import type { Store } from '../../src/store/store';
import { dropSchema, newSchemaName, TEST_DATABASE_URL } from '../helpers/pg-schema';
import { batch, forwardTo } from './builders';

/** A migrated store, and SQL on its tables through a connection of the test's own. */
interface Opened {
  store: Store;
  sql(text: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

async function openSqlite(): Promise<Opened> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autotag-retry-heads-'));
  const file = path.join(dir, 'autotag.db');
  const store = createSqliteStore({ file, log: silentLogger() });
  await store.migrate();
  const db = new Database(file);
  return {
    store,
    sql: async (text) => (/^\s*SELECT/i.test(text) ? (db.prepare(text).all() as Record<string, unknown>[]) : (db.prepare(text).run(), [])),
    close: async () => {
      db.close();
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function openPostgres(url: string): Promise<Opened> {
  const schema = newSchemaName('autotag_retry_heads');
  const store = createPostgresStore({ url, schema, log: silentLogger(), poolSize: 2, connectTimeoutMs: 3000, statementTimeoutMs: 10_000 });
  await store.migrate();
  const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
  await client.connect();
  return {
    store,
    sql: async (text) => (await client.query(text)).rows,
    close: async () => {
      await client.end();
      await store.close();
      await dropSchema(url, schema);
    },
  };
}

const A = 'http://a.test/hook';
const B = 'http://b.test/hook';

/**
 * Each engine, and the mark it leaves on the forward that led a key while its letter was dead:
 * PostgreSQL clears it (closing a race between instances, see postgres/forward-requeue.ts);
 * SQLite, one writer, leaves it, and a claim passes over it (isForwardHead).
 */
const engines: [string, () => Promise<Opened>, number][] = [['SQLite', openSqlite, 1]];
const url = TEST_DATABASE_URL;
if (url) engines.push(['PostgreSQL', () => openPostgres(url), 0]);
// eslint-disable-next-line no-console
else console.warn('dead-letters retry marks the heads of its keys only: PostgreSQL skipped, TEST_DATABASE_URL is not set');

/**
 * `dead-letters retry` marks the head of each key it queued again — its oldest pending forward —
 * and leaves every other key's marks as they are. A key elsewhere whose head
 * is not marked (on PostgreSQL, a race's leftover: a forward queued while the head of its key was
 * being completed) is the periodic look's to mark (postgres.ts, FORWARD_HEADS_LOOK_MS, for the
 * destinations a claim is for), not the retry's: the retry reads and locks the forwards of its
 * own keys only, so it costs what it queues rather than what waits in the table, and cannot wait
 * for a look or a claim over keys it has nothing to do with. SQLite has no such race (one
 * writer), and its retry is held to the same.
 */
describe.each(engines)('%s: dead-letters retry marks the heads of the keys it queues again, and of no other key', (_, open, ledWhileDead) => {
  let db: Opened;
  beforeEach(async () => {
    db = await open();
  });
  afterEach(async () => {
    await db.close();
  });
  const receive = (now: number, destination: string, key: string, body: string) => db.store.accept(batch(now, [], [forwardTo(destination, key, Buffer.from(body))]));
  const claim = (now: number) => db.store.claimForwards({ owner: 'w', now, limit: 10, leaseMs: 1000, destinations: [A] });

  /** Each pending forward's body and head mark, in id order. */
  const marks = async () =>
    (await db.sql(`SELECT b.body, f.head FROM forwards f JOIN forward_bodies b ON b.id = f.body_id WHERE f.state = 'pending' ORDER BY f.id`)).map(
      (r) => `${String(r.body)}:${Number(r.head)}`,
    );

  it.each([['by id'], ['all']])('%s', async (which) => {
    // U1: w1 dead, w2 (marked) and w3 waiting behind it. U2: x1 dead. U3: y1 dead letter queued again (marked), y2 dead.
    for (const [key, bodies] of [['U1', ['w1', 'w2', 'w3']], ['U2', ['x1']], ['U3', ['y1', 'y2']]] as const) {
      for (const body of bodies) await receive(1000, A, key, body);
    }
    const first = await claim(1000);
    for (const f of first) await db.store.deadLetterForward(f, 'w', 1100, { reason: 'gave up' });
    const [w2, y2] = await claim(1100);
    expect([w2, y2].map((f) => f?.body.toString())).toEqual(['w2', 'y2']);
    await db.store.retryForward(w2!, 'w', 1200, { dueAt: 9000, status: 503 });
    await db.store.deadLetterForward(y2!, 'w', 1200, { reason: 'gave up' });
    const [w1, x1, y1] = first;
    expect(await db.store.retryDeadLetters([`fwd-${y1!.id}`], 1300)).toBe(1);
    // Elsewhere: z1 (A, U9) and v1, v2 (B, V1) whose heads a race left unmarked; m1 (B, V2) marked.
    await receive(1400, A, 'U9', 'z1');
    await receive(1400, B, 'V1', 'v1');
    await receive(1400, B, 'V1', 'v2');
    await receive(1400, B, 'V2', 'm1');
    await db.sql(`UPDATE forwards SET head = 0 WHERE ordering_key IN ('U9', 'V1')`);

    const ids = [w1, x1, y2].map((f) => `fwd-${f!.id}`);
    expect(await db.store.retryDeadLetters(which === 'all' ? 'all' : ids, 1500)).toBe(3);
    // Each key queued again: its oldest pending forward marked (y1 still leads U3, ahead of y2); w2 led U1 while w1 was dead.
    // Every other key as it was: z1, v1 and v2 unmarked (the look's to mark), m1 marked.
    expect(await marks()).toEqual(['w1:1', `w2:${ledWhileDead}`, 'w3:0', 'x1:1', 'y1:1', 'y2:0', 'z1:0', 'v1:0', 'v2:0', 'm1:1']);
  });
});
