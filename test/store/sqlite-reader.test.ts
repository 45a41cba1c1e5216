import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../src/log';
import { createSqliteStore } from '../../src/store/sqlite';
import { SqliteReader } from '../../src/store/sqlite/reader';
import { StoreUnavailableError, type Store } from '../../src/store/store';
import { fillBacklog } from './backlog';
import { ask } from './builders';

/**
 * The queue counts read every pending row: with the tag API down for an hour, hundreds of
 * thousands, at every /metrics scrape. On SQLite they run on a thread of their own, so the
 * event loop (webhooks) goes on meanwhile.
 */
describe('SQLite: the queue counts are read off the event loop', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autotag-reader-'));
  const file = path.join(dir, 'autotag.db');
  let store: Store;
  beforeAll(async () => {
    store = createSqliteStore({ file, log: silentLogger() });
    await store.migrate();
    await fillBacklog(store, 20_000, 'reader');
  }, 60_000);
  afterAll(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('timers run while status() counts a backlog of 20,000', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      // On the service's own (synchronous) connection no timer could run before the answer.
      const status = await store.status(2000);
      expect(status.operations.pending).toBe(20_000);
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThan(0);
  });

  it('sees what the service committed just before', async () => {
    const before = (await store.status(2000)).operations.pending;
    for (const userId of ['Unew1', 'Unew2', 'Unew3']) await ask(store, 1000, { userId });
    expect((await store.status(2000)).operations.pending).toBe(before + 3);
  });

  it('a file it cannot open fails the read as "store unavailable", naming the file; the next read tries again', async () => {
    const missing = path.join(dir, 'not-there.db');
    const reader = new SqliteReader(missing);
    try {
      const err = await reader.read([{ sql: 'SELECT 1 AS one', params: [] }]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreUnavailableError);
      expect((err as Error).message).toContain(missing);
      fs.copyFileSync(file, missing);
      expect(await reader.read([{ sql: 'SELECT $1 AS one', params: [1] }])).toEqual([[{ one: 1 }]]);
    } finally {
      await reader.close();
    }
  });

  it('a file in a folder that is not there fails as "store unavailable" too, not as a bare error', async () => {
    const missing = path.join(dir, 'no-such-folder', 'autotag.db');
    const reader = new SqliteReader(missing);
    try {
      const err = await reader.read([{ sql: 'SELECT 1 AS one', params: [] }]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreUnavailableError);
      expect((err as Error).message).toContain(missing);
    } finally {
      await reader.close();
    }
  });

  it('binds parameters as the service\'s connection does: exactly as many as the highest $n', async () => {
    const reader = new SqliteReader(file);
    try {
      expect(await reader.read([{ sql: 'SELECT $2 AS b, $1 AS a, $1 AS again', params: [1, 'x'] }])).toEqual([[{ b: 'x', a: 1, again: 1 }]]);
      await expect(reader.read([{ sql: 'SELECT $1 AS a, $2 AS b', params: [1] }])).rejects.toThrow('takes 2 parameter(s) ($1…$2), 1 given');
    } finally {
      await reader.close();
    }
  });

  it('after close, a read fails as "store unavailable" at once', async () => {
    const reader = new SqliteReader(file);
    await reader.read([{ sql: 'SELECT 1 AS one', params: [] }]);
    await reader.close();
    await expect(reader.read([{ sql: 'SELECT 1 AS one', params: [] }])).rejects.toThrow(StoreUnavailableError);
  });
});
