import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../src/log';
import Database from '../../src/store/sqlite/driver';
import { createPostgresStore } from '../../src/store/postgres';
import { createSqliteStore } from '../../src/store/sqlite';
import type { Store, StoredRateEstimate } from '../../src/store/store';
import { LogLines } from '../helpers/app-harness';
import { describePostgres, dropSchema, newSchemaName } from '../helpers/pg-schema';

/**
 * One stored estimate whose rate is no positive number must not fail the read of every
 * account's estimate (a gate would start from none of them): the row is left out, with a
 * warning naming its account and value, and the others are read. Each engine keeps such rates
 * its own way: PostgreSQL's DOUBLE PRECISION keeps 'NaN' and 'Infinity'; SQLite turns a NaN into
 * NULL (refused: NOT NULL) but keeps an infinity, and text written into the column by hand.
 */
const fit: StoredRateEstimate = { rate: 197.5, burst: 19.5, confident: true, pausing: true, source: 'fit', at: 1_765_000_000_123 };
const SKIPPED = 'a rate estimate kept in the store is not read: its rate is not a positive number';

async function keepBad(store: Store, rates: Record<string, number>): Promise<void> {
  await store.keepRateEstimate('brand-a', fit);
  for (const [account, rate] of Object.entries(rates)) await store.keepRateEstimate(account, { ...fit, rate });
  await store.keepRateEstimate('mantago', { ...fit, rate: 12.5 });
}

const warnings = (logs: LogLines) => logs.parsed().filter((l) => l.message === SKIPPED).map((l) => [l.level, l.account, l.rate]);

describe('stored rate estimates with a rate that is no positive number (SQLite, real file)', () => {
  let dir: string;
  let store: Store;
  let logs: LogLines;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autotag-estimate-rows-'));
    logs = new LogLines();
    store = createSqliteStore({ file: path.join(dir, 'autotag.db'), log: createLogger({ level: 'info', stream: logs.stream }) });
    await store.migrate();
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('leaves those rows out, with a warning naming account and value, and reads the others', async () => {
    await keepBad(store, { infinite: Number.POSITIVE_INFINITY, zero: 0, negative: -5 });
    const raw = new Database(path.join(dir, 'autotag.db'));
    raw.prepare('INSERT INTO account_rate_estimates (account, rate, burst, confident, pausing, source, estimated_at) VALUES (?, ?, NULL, 1, 1, ?, ?)').run('text', 'fast', 'fit', fit.at);
    raw.close();
    expect(await store.storedRateEstimates()).toEqual(new Map([['brand-a', fit], ['mantago', { ...fit, rate: 12.5 }]]));
    expect(warnings(logs).sort()).toEqual(
      [['warn', 'infinite', 'Infinity'], ['warn', 'negative', '-5'], ['warn', 'text', 'fast'], ['warn', 'zero', '0']],
    );
  });
});

describePostgres('stored rate estimates with a rate that is no positive number (PostgreSQL)', (url) => {
  let schema: string;
  let store: Store;
  let logs: LogLines;
  beforeEach(async () => {
    schema = newSchemaName('autotag_estimate_rows');
    logs = new LogLines();
    store = createPostgresStore({ url, schema, log: createLogger({ level: 'info', stream: logs.stream }), poolSize: 2, connectTimeoutMs: 5000, statementTimeoutMs: 10_000 });
    await store.migrate();
  });
  afterEach(async () => {
    await store.close();
    await dropSchema(url, schema);
  });

  it('leaves those rows out (NaN and Infinity as PostgreSQL keeps them), with a warning naming account and value, and reads the others', async () => {
    await keepBad(store, { nan: Number.NaN, infinite: Number.POSITIVE_INFINITY, zero: 0, negative: -5 });
    expect(await store.storedRateEstimates()).toEqual(new Map([['brand-a', fit], ['mantago', { ...fit, rate: 12.5 }]]));
    expect(warnings(logs).sort()).toEqual(
      [['warn', 'infinite', 'Infinity'], ['warn', 'nan', 'NaN'], ['warn', 'negative', '-5'], ['warn', 'zero', '0']],
    );
  });
});
