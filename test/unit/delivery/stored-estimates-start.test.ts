import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from '../../../src/store/sqlite/driver';
import { createLogger } from '../../../src/log';
import { startFromStoredEstimates } from '../../../src/delivery/stored-estimates';
import { createSqliteStore } from '../../../src/store/sqlite';
import type { Store } from '../../../src/store/store';
import { LogLines } from '../../helpers/app-harness';
import { workerOver } from '../../helpers/worker-parts';

/**
 * Taking an account's caller role (PostgreSQL, PROVIDER_CALLERS=one), its gate starts from the
 * estimate kept in the store, or fresh without one. Over a real SQLite file whose estimates
 * cannot be read (the table gone), as a store that fails the read.
 */
describe('starting the gates from the stored estimates when they cannot be read', () => {
  let dir: string;
  let store: Store;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autotag-estimates-'));
    store = createSqliteStore({ file: path.join(dir, 'autotag.db'), log: createLogger({ level: 'error', stream: new LogLines().stream }) });
    await store.migrate();
    const raw = new Database(path.join(dir, 'autotag.db'));
    raw.exec('DROP TABLE account_rate_estimates');
    raw.close();
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('taking the role, the gate starts fresh (unpaced) as the log says, not the one learned when the role was last held', async () => {
    // Not `rejects.toThrow()`: better-sqlite3's error class is made once per process, in the realm
    // of the first test file that loaded it, so later in a full run it is no `Error` of this one.
    await expect(store.storedRateEstimates()).rejects.toHaveProperty('message', expect.stringContaining('account_rate_estimates'));
    const worker = workerOver({ queue: [], tagger: { apply: async () => undefined }, concurrency: 1 });
    // What this instance learned when it last held the role, long ago.
    worker.rateGate.startFrom({ rate: 20, burst: 4, pausing: true });
    const before = worker.gate;
    expect(before.limitEstimate).toBeDefined();
    const logs = new LogLines();

    await startFromStoredEstimates({ store, workers: new Map([['mantago', worker]]), now: Date.now, log: createLogger({ level: 'info', stream: logs.stream }), when: 'caller' });

    expect(worker.gate).not.toBe(before);
    expect(worker.gate.limitEstimate).toBeUndefined();
    expect(worker.gate.rateCap).toBeUndefined();
    expect(logs.parsed()).toEqual([
      expect.objectContaining({ level: 'warn', message: 'could not read the rate estimates kept in the store: calls start unpaced', when: 'caller' }),
    ]);
  });

  it('at start, the gates stay as they were made: fresh', async () => {
    const worker = workerOver({ queue: [], tagger: { apply: async () => undefined }, concurrency: 1 });
    const before = worker.gate;
    const logs = new LogLines();
    await startFromStoredEstimates({ store, workers: new Map([['mantago', worker]]), now: Date.now, log: createLogger({ level: 'info', stream: logs.stream }), when: 'start' });
    expect(worker.gate).toBe(before);
    expect(worker.gate.limitEstimate).toBeUndefined();
    expect(logs.parsed()).toEqual([expect.objectContaining({ level: 'warn', message: 'could not read the rate estimates kept in the store: calls start unpaced', when: 'start' })]);
  });
});
