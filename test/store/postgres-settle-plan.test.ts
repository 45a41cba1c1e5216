import pg from 'pg';
import { COMPLETE_OPERATIONS } from '../../src/store/postgres/operations';
import type { Store } from '../../src/store/store';
import { dropSchema, describePostgres, newSchemaName } from '../helpers/pg-schema';
import { fillBacklog, planNodes, planOf, planStore } from './backlog';

const BACKLOG = 3000;

/**
 * The worker's settle of successful calls (one statement for many completions) must find its rows
 * by primary key whatever the planner believes about the table. Here, as on a young database, a
 * burst after a quiet spell or a server with autovacuum off, the statistics have never seen the
 * backlog: `state = 'pending'` looks selective, and the statement used to read every pending row
 * through the partial index operations_due for each settle.
 */
describePostgres('PostgreSQL: settling completed calls with a backlog the statistics have not seen', (url) => {
  const schema = newSchemaName('autotag_settle_plan');
  let store: Store;
  let client: pg.Client;
  let ids: number[];

  beforeAll(async () => {
    ({ store, client } = await planStore(url, schema));
    // Never analysed, by autovacuum either, during the test.
    await client.query('ALTER TABLE operations SET (autovacuum_enabled = false)');
    await fillBacklog(store, BACKLOG, 'plan');
    const claimed = await store.claimOperations({ scope: { account: 'mantago' }, limit: 4, owner: 'w', now: 2000, leaseMs: 60_000 });
    ids = claimed.map((op) => op.id);
    expect(ids).toHaveLength(4);
  }, 60_000);
  afterAll(async () => {
    await client?.end();
    await store?.close();
    await dropSchema(url, schema);
  });

  it.each(['force_generic_plan', 'force_custom_plan'])('reads the settled rows by primary key (%s)', async (mode) => {
    await client.query(`SET plan_cache_mode = ${mode}`);
    await client.query(`PREPARE settle_${mode} AS ${COMPLETE_OPERATIONS}`);
    const arr = (values: (string | number | null)[]) => `{${values.map((v) => (v === null ? 'NULL' : `"${v}"`)).join(',')}}`;
    const four = <T>(v: T) => ids.map(() => v);
    const params = [arr(ids), arr(four('w')), arr(four(1)), arr(four(3000)), arr(four(200)), arr(four(null)), arr(four(null)), arr(four('U1')), arr(four('op'))];
    const { rows } = await client.query(`EXPLAIN (FORMAT JSON) EXECUTE settle_${mode}(${params.map((p) => `'${p}'`).join(', ')})`);
    const nodes = planNodes(planOf(rows));
    // Only what the settle touches is read: no scan of the whole table, no index but the primary key.
    expect(nodes.filter((n) => n['Relation Name'] === 'operations').map((n) => n['Node Type'])).not.toContain('Seq Scan');
    const indexes = nodes.map((n) => n['Index Name']).filter((i) => i !== undefined);
    expect(indexes).toEqual(['operations_pkey']);
  });
});
