import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from '../../src/store/sqlite/driver';
import { loadConfig } from '../../src/config';
import { silentLogger } from '../../src/log';
import { sqliteMigrations } from '../../src/store/migrations/sqlite';
import { openStore } from '../../src/store/open-store';
import { OTHER_WRITERS_POLL_MS, createSqliteStore } from '../../src/store/sqlite';
import { StoreUnavailableError, type WorkKind } from '../../src/store/store';
import { accepted, ask, askAt, batch, forwardTo } from './builders';
import { describeStoreContract } from './contract';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'autotag-store-'));
}

describeStoreContract('SQLite', async () => {
  const dir = tempDir();
  const open = async () => {
    const s = createSqliteStore({ file: path.join(dir, 'autotag.db'), log: silentLogger() });
    await s.migrate();
    return s;
  };
  let store = await open();
  return {
    store,
    async reopen() {
      await store.close();
      return (store = await open());
    },
    async cleanup() {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SQLite store file', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('creates DATA_DIR when missing and opens autotag.db in WAL mode', async () => {
    const dataDir = path.join(dir, 'not', 'yet', 'there');
    const store = await openStore(loadConfig({ DATA_DIR: dataDir }), silentLogger());
    expect(store.engine).toBe('sqlite');
    await store.close();
    const raw = new Database(path.join(dataDir, 'autotag.db'), { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.prepare('SELECT version FROM schema_migrations ORDER BY version').all()).toEqual(sqliteMigrations.map((m) => ({ version: m.version })));
    raw.close();
  });

  it('keeps queued work, leases and seen event ids across close and reopen', async () => {
    const file = path.join(dir, 'autotag.db');
    const first = createSqliteStore({ file, log: silentLogger() });
    await first.migrate();
    await first.accept(batch(1000, [accepted('e1')], [forwardTo('http://a.test/hook')]));
    await ask(first, 1000, { tagId: 'second' });
    await first.claimOperations({ scope: { account: 'mantago' }, limit: 1, owner: 'old-process', now: 1000, leaseMs: 60_000 });
    await first.close();

    const second = createSqliteStore({ file, log: silentLogger() });
    await second.migrate();
    expect(await second.status(2000)).toMatchObject({
      operations: { pending: 1, due: 1, leased: 1, dead: 0, oldestPendingAgeMs: 1000 },
      forwards: { pending: 1, due: 1, leased: 0, dead: 0, oldestPendingAgeMs: 1000 },
    });
    // One instance per file: leases left by an earlier process are released at start.
    expect(await second.releaseAllLeases()).toBe(1);
    expect(await second.claimOperations({ scope: { account: 'mantago' }, limit: 10, owner: 'new', now: 2000, leaseMs: 1000 })).toHaveLength(2);
    expect(await second.accept(batch(2000, [accepted('e1')]))).toMatchObject({ duplicates: 1, accepted: 0 });
    await second.close();
  });

  it('wakes its workers when another process queues work on the same file (a CLI dead-letters retry), not when it commits itself', async () => {
    const file = path.join(dir, 'autotag.db');
    const serving = createSqliteStore({ file, log: silentLogger() });
    await serving.migrate();
    await ask(serving, 1000, { tagId: 'gave-up' });
    const [op] = await serving.claimOperations({ scope: { account: 'mantago' }, limit: 1, owner: 'w', now: 1000, leaseMs: 60_000 });
    await serving.deadLetterOperation(op!, 'w', 1100, { reason: '400 from mantago: bad request', status: 400 });
    const kinds: WorkKind[] = [];
    const off = serving.onWork((k) => kinds.push(k));
    // Its own commits are announced in-process once (accept), never again by the watch.
    await serving.accept(batch(1200, [], [forwardTo('http://a.test/hook')]));
    await new Promise((r) => setTimeout(r, 3 * OTHER_WRITERS_POLL_MS));
    expect(kinds).toEqual(['forwards']);

    // `autotag dead-letters retry --all` is another process with a connection of its own.
    const cli = createSqliteStore({ file, log: silentLogger() });
    expect(await cli.retryDeadLetters('all', 2000)).toBe(1);
    await cli.close();
    const deadline = Date.now() + 2000;
    while (kinds.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(kinds).toEqual(['forwards', 'operations', 'forwards']);
    off();
    await serving.close();
  });

  it('stores a webhook body once for all its destinations and deletes it with the last forward', async () => {
    const file = path.join(dir, 'autotag.db');
    const store = createSqliteStore({ file, log: silentLogger() });
    await store.migrate();
    const body = Buffer.from('{"events":[{"type":"message"}]}');
    await store.accept(batch(1000, [], ['http://a.test', 'http://b.test', 'http://c.test'].map((d) => forwardTo(d, 'U1', body))));
    const raw = new Database(file, { readonly: true });
    const bodies = () => (raw.prepare('SELECT count(*) AS n FROM forward_bodies').get() as { n: number }).n;
    expect(bodies()).toBe(1);

    const claimed = await store.claimForwards({ owner: 'w', now: 1000, limit: 10, leaseMs: 1000 });
    expect(claimed).toHaveLength(3);
    for (const [i, f] of claimed.entries()) {
      await store.completeForward(f, 'w', 1000, { status: 200 });
      expect(bodies()).toBe(i < 2 ? 1 : 0);
    }
    raw.close();
    await store.close();
  });

  it('upgrades a file of the first schema: rows keep their state, set as of when they were asked for, without a lifetime', async () => {
    const file = path.join(dir, 'autotag.db');
    const raw = new Database(file);
    raw.exec(sqliteMigrations[0]!.sql);
    raw.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    raw.prepare("INSERT INTO schema_migrations VALUES (1, 'first', 0)").run();
    raw
      .prepare(
        `INSERT INTO operations (provider, kind, tag_id, platform, channel, user_id, action, version, state, due_at, requested_at, updated_at)
         VALUES ('mantago', 'personal', 'tag-1', 'line', 'C1', 'U1', 'add', 3, 'done', 1000, 1000, 1500)`,
      )
      .run();
    raw.close();

    const store = createSqliteStore({ file, log: silentLogger() });
    await store.migrate();
    // Set at 1000: an event of 900 is older, one of 1100 newer.
    expect(await askAt(store, { now: 2000, at: 900 }, { action: 'remove' })).toBe(0);
    expect(await askAt(store, { now: 2000, at: 1100 }, { action: 'remove' })).toBe(1);
    expect(await store.claimOperations({ scope: { account: 'mantago' }, limit: 10, owner: 'w', now: 2000, leaseMs: 1000 })).toEqual([
      expect.objectContaining({ action: 'remove', version: 4 }),
    ]);
    expect((await store.userHistory('U1')).expiring).toEqual([]);
    await store.close();
  });

  it('refuses a file whose schema is newer than this release', async () => {
    const file = path.join(dir, 'autotag.db');
    const store = createSqliteStore({ file, log: silentLogger() });
    await store.migrate();
    await store.close();
    const raw = new Database(file);
    raw.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'from the future', 0)").run();
    raw.close();
    await expect(openStore(loadConfig({ DATA_DIR: dir }), silentLogger())).rejects.toThrow(/schema version 99, newer than this release knows/);
  });

  it('says which file it could not open', () => {
    const blocker = path.join(dir, 'a-file');
    fs.writeFileSync(blocker, '');
    const file = path.join(blocker, 'data', 'autotag.db');
    expect(() => createSqliteStore({ file, log: silentLogger() })).toThrow(StoreUnavailableError);
    expect(() => createSqliteStore({ file, log: silentLogger() })).toThrow(file);
  });

  it('refuses calls after close', async () => {
    const store = createSqliteStore({ file: path.join(dir, 'autotag.db'), log: silentLogger() });
    await store.migrate();
    await store.close();
    await expect(store.accept(batch(1000, [accepted('e1')]))).rejects.toThrow(/is closed/);
    await expect(store.status(1000)).rejects.toThrow(/is closed/);
  });
});
