import pg from 'pg';
import {
  OPERATION_COUNTS,
  RELEASE_ALL_OPERATION_LEASES,
  RELEASE_OPERATION_LEASES_OF,
} from '../../src/store/sql/views';
import type { Store } from '../../src/store/store';
import { dropSchema, describePostgres, newSchemaName } from '../helpers/pg-schema';
import { fillBacklog, operationsRowsRead, planStore, sqliteBacklog, sqlitePlan } from './backlog';

/**
 * Done operations are the desired state of every person and tag ever tagged: they stay, and are
 * most of the table. `autotag status`, /admin and every /metrics scrape count the queue; those
 * counts must read the pending, dead and owed rows, not the done ones. Here 3,000 done operations
 * beside 10 pending, 5 dead and 5 done whose lifetime has ended (removals owed).
 */
const DONE = 3000;
const NOW = 10_000;
/** Turns all but the first 20 rows into done ones; of those 20, 5 dead and 5 done with an ended lifetime. */
const SHAPE = [
  `UPDATE operations SET state = 'done' WHERE id > 20`,
  `UPDATE operations SET state = 'dead', dead_at = 5000, dead_reason = 'x', dead_code = 'rejected' WHERE id BETWEEN 11 AND 15`,
  `UPDATE operations SET state = 'done', expires_at = 6000, expiry_rule = 'r' WHERE id BETWEEN 16 AND 20`,
  // Lifetimes still running: not owed, not to be read by the counts.
  `UPDATE operations SET expires_at = 1000000, expiry_rule = 'r' WHERE id BETWEEN 21 AND 30`,
];
/** The queue, each channel and each account are counted in one statement (by account, provider and channel). */
const STATEMENTS: [string, string][] = [['the counts', OPERATION_COUNTS]];

describe('SQLite: the queue counts read no done operations', () => {
  let backlog: Awaited<ReturnType<typeof sqliteBacklog>>;
  beforeAll(async () => {
    backlog = await sqliteBacklog(DONE + 20, 'status');
    for (const sql of SHAPE) backlog.db.exec(sql);
  }, 60_000);
  afterAll(() => backlog?.remove());

  it.each(STATEMENTS)('%s: operations searched or read through a partial index, never scanned', (_name, sql) => {
    const onOperations = sqlitePlan(backlog.db, sql, NOW).filter((d) => /^(SCAN|SEARCH) operations\b/.test(d));
    expect(onOperations).toHaveLength(3);
    expect(onOperations.filter((d) => !/ USING INDEX operations_(due|dead|expiry)\b/.test(d))).toEqual([]);
  });

  it('counts what it counted before: 10 pending and 5 owed removals, 5 dead', () => {
    const row = backlog.db.prepare(OPERATION_COUNTS.replace(/\$\d+/g, '?')).get(...OPERATION_COUNTS.split(/\$\d+/).slice(1).map(() => NOW));
    expect(row).toMatchObject({ pending: 15, due: 15, leased: 0, dead: 5 });
  });
});

describePostgres('PostgreSQL: the queue counts read no done operations', (url) => {
  const schema = newSchemaName('autotag_status_plan');
  let store: Store;
  let client: pg.Client;
  beforeAll(async () => {
    ({ store, client } = await planStore(url, schema));
    await fillBacklog(store, DONE + 20, 'status');
    for (const sql of SHAPE) await client.query(sql);
    // As a database that analyses its tables sees it: done rows are nearly all of them.
    await client.query('ANALYZE operations');
  }, 60_000);
  afterAll(async () => {
    await client?.end();
    await store?.close();
    await dropSchema(url, schema);
  });

  it.each(STATEMENTS)('%s reads the 20 rows it counts, not the done ones', async (_name, sql) => {
    expect(await operationsRowsRead(client, sql, [NOW])).toBeLessThanOrEqual(30);
  });

  it.each([
    ['a stopping worker', RELEASE_OPERATION_LEASES_OF, ['w']],
    ['every worker', RELEASE_ALL_OPERATION_LEASES, []],
  ])('giving back the leases of %s reads the leased rows, not the done ones', async (_name, sql, params) => {
    expect(await operationsRowsRead(client, sql, params)).toBeLessThanOrEqual(30);
  });

  it('counts what it counted before: 10 pending and 5 owed removals, 5 dead', async () => {
    expect((await store.status(NOW)).operations).toMatchObject({ pending: 15, due: 15, leased: 0, dead: 5 });
  });
});
