import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../src/log';
import { createPostgresStore } from '../../src/store/postgres';
import { SqliteDb } from '../../src/store/sqlite/db';
import { createSqliteStore } from '../../src/store/sqlite';
import type { Store } from '../../src/store/store';
import { describePostgres, dropSchema, newSchemaName } from '../helpers/pg-schema';
import { ask } from './builders';

/**
 * The store calls the delivery worker makes per tag call: the next due time is asked
 * per provider (so one provider's backlog does not wake another provider's idle loop),
 * and on SQLite the worker's bookkeeping neither loses durability for settles nor leaves
 * the connection in the relaxed mode it uses for claims.
 */

function nextDueAtPerProvider(store: () => Store): void {
  it('nextDueAt with a provider looks at that provider only', async () => {
    await ask(store(), 1000, { provider: 'mantago', tagId: 'due-now' });
    expect(await store().nextDueAt('operations')).toBe(1000);
    expect(await store().nextDueAt('operations', 'mantago')).toBe(1000);
    // BotBonnie has nothing queued: its loop must sleep, not wake for MantaGo's row.
    expect(await store().nextDueAt('operations', 'botbonnie')).toBeNull();
    await ask(store(), 2000, { provider: 'botbonnie', tagId: 'later' });
    expect(await store().nextDueAt('operations', 'botbonnie')).toBe(2000);
  });
}

describe('SQLite worker writes', () => {
  let dir: string;
  let store: Store;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autotag-worker-writes-'));
    store = createSqliteStore({ file: path.join(dir, 'autotag.db'), log: silentLogger() });
    await store.migrate();
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  nextDueAtPerProvider(() => store);

  it('settles of calls that end together are all kept, each with its own result', async () => {
    for (let i = 0; i < 5; i++) await ask(store, 1000, { userId: `U${i}` });
    const claimed = await store.claimOperations({ scope: { account: 'mantago' }, limit: 5, owner: 'w', now: 1000, leaseMs: 30_000 });
    expect(claimed).toHaveLength(5);
    // The third one was asked for again meanwhile (remove): its completion is superseded.
    await ask(store, 1500, { userId: claimed[2]!.userId, action: 'remove' });
    const results = await Promise.all(claimed.map((op) => store.completeOperation(op, 'w', 2000, { status: 200 })));
    expect(results).toEqual([true, true, false, true, true]);
    const status = await store.status(2000);
    expect(status.operations).toMatchObject({ pending: 1, leased: 0 });
  });

  it('claims leave the connection at synchronous=FULL, also when the claim fails', () => {
    const db = SqliteDb.open(path.join(dir, 'raw.db'));
    try {
      expect(db.raw.pragma('synchronous', { simple: true })).toBe(2); // FULL
      expect(db.relaxed(() => db.raw.pragma('synchronous', { simple: true }))).toBe(1); // NORMAL inside
      expect(db.raw.pragma('synchronous', { simple: true })).toBe(2);
      expect(() => db.relaxed(() => db.all('SELECT * FROM no_such_table'))).toThrow(/no_such_table/);
      expect(db.raw.pragma('synchronous', { simple: true })).toBe(2);
    } finally {
      db.close();
    }
  });
});

describePostgres('PostgreSQL worker writes', (url) => {
  let schema: string;
  let store: Store;
  beforeEach(async () => {
    schema = newSchemaName('worker_writes');
    store = createPostgresStore({ url, log: silentLogger(), poolSize: 2, connectTimeoutMs: 5000, statementTimeoutMs: 10_000, schema });
    await store.migrate();
  });
  afterEach(async () => {
    await store.close();
    await dropSchema(url, schema);
  });

  nextDueAtPerProvider(() => store);
});
