import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from '../../src/store/sqlite/driver';
import { silentLogger } from '../../src/log';
import { createSqliteStore } from '../../src/store/sqlite';
import { WalSync } from '../../src/store/sqlite/wal-sync';
import { StoreUnavailableError, type Store } from '../../src/store/store';
import { accepted, batch, tagOp } from './builders';

/**
 * SQLite commits on the request path are made durable by an fdatasync of the WAL on the
 * thread pool, not inside the commit (which would block the event loop): an accept or a
 * settle resolves only after a flush that began after its commit, and a failed flush
 * fails it with StoreUnavailableError (the webhook gets 503 and is redelivered).
 */

/** An fdatasync the test completes by hand; records what was committed when each flush began. */
function heldFlushes(file: string) {
  const flushes: { seenRows: number; done(err?: Error): void }[] = [];
  const waiters: (() => void)[] = [];
  const fdatasync = (fd: number) =>
    new Promise<void>((resolve, reject) => {
      expect(typeof fd).toBe('number');
      // What another connection sees now is what the commit already wrote to the WAL.
      const reader = new Database(file, { readonly: true });
      const seenRows = (reader.prepare('SELECT COUNT(*) AS n FROM seen_events').get() as { n: number }).n;
      reader.close();
      flushes.push({ seenRows, done: (err) => (err ? reject(err) : resolve()) });
      waiters.splice(0).forEach((w) => w());
    });
  const nextFlush = async (n: number) => {
    while (flushes.length < n) await new Promise<void>((r) => waiters.push(r));
    return flushes[n - 1] as (typeof flushes)[number];
  };
  return { fdatasync, flushes, nextFlush };
}

const settledYet = (p: Promise<unknown>) => Promise.race([p.then(() => true, () => true), new Promise((r) => setTimeout(() => r(false), 30))]);

describe('SQLite: durability off the event loop', () => {
  let dir: string;
  let file: string;
  let store: Store | undefined;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autotag-walsync-'));
    file = path.join(dir, 'autotag.db');
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('an accept resolves only after the WAL flush that follows its commit', async () => {
    const held = heldFlushes(file);
    store = createSqliteStore({ file, log: silentLogger(), fdatasync: held.fdatasync });
    await store.migrate();
    const result = store.accept(batch(1000, [accepted('e1')]));
    const flush = await held.nextFlush(1);
    expect(flush.seenRows).toBe(1); // committed before the flush began
    expect(await settledYet(result)).toBe(false); // …but not answered before it ends
    flush.done();
    await expect(result).resolves.toMatchObject({ accepted: 1, operationsQueued: 1 });
  });

  it('a failed flush fails the accept with StoreUnavailableError', async () => {
    const held = heldFlushes(file);
    store = createSqliteStore({ file, log: silentLogger(), fdatasync: held.fdatasync });
    await store.migrate();
    const result = store.accept(batch(1000, [accepted('e1')]));
    (await held.nextFlush(1)).done(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    await expect(result).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(result).rejects.toThrow(/autotag\.db-wal.*EIO/);
  });

  it('a settle resolves only after a flush too', async () => {
    const held = heldFlushes(file);
    store = createSqliteStore({ file, log: silentLogger(), fdatasync: held.fdatasync });
    await store.migrate();
    const accept = store.accept(batch(1000, [accepted('e1', [tagOp()])]));
    (await held.nextFlush(1)).done();
    await accept;
    const [op] = await store.claimOperations({ scope: { account: 'mantago' }, limit: 1, owner: 'w', now: 1000, leaseMs: 30_000 });
    expect(op).toBeDefined();
    const completed = store.completeOperation(op!, 'w', 1100, { status: 200 });
    const flush = await held.nextFlush(2);
    expect(await settledYet(completed)).toBe(false);
    flush.done();
    await expect(completed).resolves.toBe(true);
  });
});

describe('WalSync', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autotag-walsync-'));
    fs.writeFileSync(path.join(dir, 'x-wal'), '');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a sync asked for while a flush runs waits for the next flush, and shares it with the others that asked meanwhile', async () => {
    const flushes: (() => void)[] = [];
    const wal = new WalSync(path.join(dir, 'x-wal'), () => new Promise<void>((resolve) => flushes.push(resolve)));
    const first = wal.sync();
    expect(flushes).toHaveLength(1);
    const second = wal.sync();
    const third = wal.sync();
    expect(flushes).toHaveLength(1); // one flush at a time
    flushes[0]!();
    await first;
    expect(await settledYet(second)).toBe(false); // the running flush may have begun before their writes
    expect(flushes).toHaveLength(2);
    flushes[1]!();
    await Promise.all([second, third]);
    expect(flushes).toHaveLength(2);
    await wal.close();
  });

  it('flushes the real file with fdatasync by default', async () => {
    const wal = new WalSync(path.join(dir, 'x-wal'));
    await expect(wal.sync()).resolves.toBeUndefined();
    await wal.close();
  });

  it('a WAL file that is not there is a StoreUnavailableError naming it', async () => {
    const wal = new WalSync(path.join(dir, 'missing-wal'));
    await expect(wal.sync()).rejects.toThrow(/missing-wal/);
    await expect(new WalSync(path.join(dir, 'missing-wal')).sync()).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});
