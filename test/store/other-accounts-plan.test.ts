import pg from 'pg';
import { CLAIM_OTHER_ACCOUNTS as CLAIM_OTHER_PG } from '../../src/store/postgres/operations';
import { NEXT_DUE as NEXT_DUE_PG } from '../../src/store/postgres/views';
import { CLAIM_OTHER_ACCOUNTS as CLAIM_OTHER_SQLITE } from '../../src/store/sqlite/operations';
import { NEXT_DUE as NEXT_DUE_SQLITE } from '../../src/store/sqlite/views';
import type { Store } from '../../src/store/store';
import { dropSchema, describePostgres, newSchemaName } from '../helpers/pg-schema';
import { fillBacklog, operationsRowsRead, planStore, sqliteBacklog, sqlitePlan } from './backlog';

/**
 * The loop that keeps operations no account can take asks, at most once a second, for the pending
 * operations of every account but the configured ones (`accountsOtherThan`). With a backlog of the
 * configured accounts' own operations — a tag API down for an hour — those statements must not read
 * it: they used to, every row of it (`account NOT IN (…)` matches no index), on SQLite on the event loop.
 */
const BACKLOG = 3000;

describe('SQLite: the statements for operations no account takes read none of the accounts\' backlog', () => {
  let backlog: Awaited<ReturnType<typeof sqliteBacklog>>;
  beforeAll(async () => {
    backlog = await sqliteBacklog(BACKLOG, 'other');
  }, 60_000);
  afterAll(() => backlog?.remove());

  it.each([
    ['the claim', CLAIM_OTHER_SQLITE],
    ['the next due time', NEXT_DUE_SQLITE.otherAccountsOperations],
    ['the next lifetime end', NEXT_DUE_SQLITE.otherAccountsExpiry],
  ])('%s searches operations by account, never scans them', (_name, sql) => {
    const onOperations = sqlitePlan(backlog.db, sql).filter((d) => /^(SCAN|SEARCH) (operations|k)\b/.test(d));
    expect(onOperations.length).toBeGreaterThan(0);
    expect(onOperations.filter((d) => d.startsWith('SCAN'))).toEqual([]);
  });
});

describePostgres('PostgreSQL: the statements for operations no account takes read none of the accounts\' backlog', (url) => {
  const schema = newSchemaName('autotag_other_accounts');
  let store: Store;
  let client: pg.Client;
  beforeAll(async () => {
    ({ store, client } = await planStore(url, schema));
    await fillBacklog(store, BACKLOG, 'other');
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
    expect(await operationsRowsRead(client, sql, params as unknown[])).toBeLessThanOrEqual(10);
  });
});
