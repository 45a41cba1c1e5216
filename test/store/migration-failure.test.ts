import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from '../../src/store/sqlite/driver';
import pg from 'pg';
import { createLogger } from '../../src/log';
import { createPostgresStore } from '../../src/store/postgres';
import { createSqliteStore } from '../../src/store/sqlite';
import type { Store } from '../../src/store/store';
import { LogLines } from '../helpers/app-harness';
import { describePostgres, dropSchema, newSchemaName } from '../helpers/pg-schema';
import { postgresSchemaAtStep, sqliteFileAtStep, type LegacyRows } from './legacy-store';

/*
 * A store step that fails says so: which step, and that nothing of the upgrade was kept
 * (every step runs in one transaction). Before, serve printed the engine's message alone
 * ("autotag: no such column: event_at") after having logged the earlier steps of the same
 * transaction as applied, though they were rolled back.
 *
 * The database: written by a development build of main (575448b) whose step 4 was
 * "channels and accounts" — recorded as step 4, while this release's step 4 (event time and
 * lifetimes) never ran on it, so this release's step 6 cannot read event_at.
 */

const DEV_STEP_4: LegacyRows = [["INSERT INTO schema_migrations VALUES (4, 'channels and accounts', 0)", []]];
const FAILED = /^store step 6 \(channels and accounts\) failed on the (SQLite|PostgreSQL) store.*; nothing was changed/;

/** The upgrade fails as FAILED says, and no step is logged as applied. */
async function failsAndLogsNoStep(store: Store, logs: LogLines): Promise<void> {
  try {
    await expect(store.migrate()).rejects.toThrow(FAILED);
  } finally {
    await store.close().catch(() => undefined);
  }
  await new Promise((r) => setImmediate(r)); // let the log stream write
  expect(logs.parsed().filter((l) => l.message === 'store migration applied')).toEqual([]);
}

describe('a store step that fails (SQLite)', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autotag-failed-step-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('names the step, says nothing was changed, and logs no step as applied', async () => {
    const file = path.join(dir, 'autotag.db');
    sqliteFileAtStep(file, 3, DEV_STEP_4);
    const logs = new LogLines();
    await failsAndLogsNoStep(createSqliteStore({ file, log: createLogger({ stream: logs.stream }) }), logs);
    const raw = new Database(file);
    try {
      expect(raw.prepare('SELECT max(version) AS v FROM schema_migrations').get()).toEqual({ v: 4 });
    } finally {
      raw.close();
    }
  });
});

describePostgres('a store step that fails (PostgreSQL)', (url) => {
  let schema: string;
  afterEach(() => dropSchema(url, schema));

  it('names the step, says nothing was changed, and logs no step as applied', async () => {
    schema = newSchemaName('autotag_failedstep');
    await postgresSchemaAtStep(url, schema, 3, DEV_STEP_4);
    const logs = new LogLines();
    const log = createLogger({ stream: logs.stream });
    await failsAndLogsNoStep(createPostgresStore({ url, schema, log, poolSize: 2, connectTimeoutMs: 3000, statementTimeoutMs: 10_000 }), logs);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      expect((await client.query(`SELECT max(version) AS v FROM "${schema}".schema_migrations`)).rows).toEqual([{ v: 4 }]);
    } finally {
      await client.end();
    }
  });
});
