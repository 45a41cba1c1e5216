import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { silentLogger } from '../../src/log';
import { createPostgresStore } from '../../src/store/postgres';
import { CLAIM_OTHER_ACCOUNTS as CLAIM_OTHER_PG } from '../../src/store/postgres/operations';
import { NEXT_DUE as NEXT_DUE_PG } from '../../src/store/postgres/views';
import { createSqliteStore } from '../../src/store/sqlite';
import { CLAIM_OTHER_ACCOUNTS as CLAIM_OTHER_SQLITE } from '../../src/store/sqlite/operations';
import { NEXT_DUE as NEXT_DUE_SQLITE } from '../../src/store/sqlite/views';
import type { Store } from '../../src/store/store';
import { dropSchema, describePostgres, newSchemaName } from '../helpers/pg-schema';
import { fillBacklog, planNodes, planOf } from './backlog';

/**
 * The loop that keeps operations no account can take asks, at most once a second, for the pending
 * operations of every account but the configured ones (`accountsOtherThan`). With a backlog of the
 * configured accounts' own operations — a tag API down for an hour — those statements must not read
 * it: they used to, every row of it (`account NOT IN (…)` matches no index), on SQLite on the event loop.
 */
const BACKLOG = 3000;

describe('SQLite: the statements for operations no account takes read none of the accounts\' backlog', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autotag-other-accounts-'));
  const file = path.join(dir, 'autotag.db');
  let db: Database.Database;
  beforeAll(async () => {
    const store = createSqliteStore({ file, log: silentLogger() });
    await store.migrate();
    await fillBacklog(store, BACKLOG, 'other');
    await store.close();
    db = new Database(file, { readonly: true });
  }, 60_000);
  afterAll(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['the claim', CLAIM_OTHER_SQLITE],
    ['the next due time', NEXT_DUE_SQLITE.otherAccountsOperations],
    ['the next lifetime end', NEXT_DUE_SQLITE.otherAccountsExpiry],
  ])('%s searches operations by account, never scans them', (_name, sql) => {
    const text = sql.replace(/\$\d+/g, '?');
    const plan = db.prepare(`EXPLAIN QUERY PLAN ${text}`).all(...text.split('?').slice(1).map(() => null)) as { detail: string }[];
    const onOperations = plan.map((r) => r.detail).filter((d) => /^(SCAN|SEARCH) (operations|k)\b/.test(d));
    expect(onOperations.length).toBeGreaterThan(0);
    expect(onOperations.filter((d) => d.startsWith('SCAN'))).toEqual([]);
  });
});

describePostgres('PostgreSQL: the statements for operations no account takes read none of the accounts\' backlog', (url) => {
  const schema = newSchemaName('autotag_other_accounts');
  let store: Store;
  let client: pg.Client;
  beforeAll(async () => {
    store = createPostgresStore({ url, schema, log: silentLogger(), poolSize: 2, connectTimeoutMs: 3000, statementTimeoutMs: 10_000 });
    await store.migrate();
    await fillBacklog(store, BACKLOG, 'other');
    client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`SET search_path TO "${schema}"`);
  }, 60_000);
  afterAll(async () => {
    await client?.end();
    await store?.close();
    await dropSchema(url, schema);
  });

  it.each([
    ['the claim', CLAIM_OTHER_PG, ['w', 60_000, '{mantago}', 5000, 8, null, null]],
    ['the next due time', NEXT_DUE_PG.otherAccountsOperations, ['{mantago}']],
    ['the next lifetime end', NEXT_DUE_PG.otherAccountsExpiry, ['{mantago}']],
  ])('%s reads a few rows of operations, not the backlog', async (_name, sql, params) => {
    await client.query('BEGIN');
    try {
      const { rows } = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params as unknown[]);
      const read = planNodes(planOf(rows))
        .filter((n) => n['Relation Name'] === 'operations')
        .reduce((sum, n) => sum + ((n['Actual Rows'] ?? 0) + (n['Rows Removed by Filter'] ?? 0) + (n['Rows Removed by Index Recheck'] ?? 0)) * (n['Actual Loops'] ?? 1), 0);
      expect(read).toBeLessThanOrEqual(10);
    } finally {
      await client.query('ROLLBACK');
    }
  });
});
