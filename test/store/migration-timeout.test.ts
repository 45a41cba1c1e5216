import pg from 'pg';
import { silentLogger } from '../../src/log';
import { postgresMigrations } from '../../src/store/migrations/postgres';
import { createPostgresStore } from '../../src/store/postgres';
import type { Store } from '../../src/store/store';
import { describePostgres, dropSchema, newSchemaName } from '../helpers/pg-schema';
import { postgresSchemaAtStep } from './legacy-store';

/*
 * Store steps rewrite whole tables (step 9 ranks and re-keys every operations row), so on a
 * large database one takes longer than DATABASE_STATEMENT_TIMEOUT_MS (10 s by default: about
 * a million rows). The upgrade must not be cut off by the timeout meant for the service's own
 * short statements (it failed with 57014, rolled back, at every start: "PostgreSQL is
 * unavailable"), nor must an instance that waits for another's migration.
 */

const ROWS = 60_000;
const STATEMENT_TIMEOUT_MS = 100;

describePostgres('store steps are not cut off by DATABASE_STATEMENT_TIMEOUT_MS', (url) => {
  let schema: string;
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
    await dropSchema(url, schema);
  });

  const open = () =>
    createPostgresStore({ url, schema, log: silentLogger(), poolSize: 2, connectTimeoutMs: 3000, statementTimeoutMs: STATEMENT_TIMEOUT_MS });

  it('applies store step 9 to a table that takes longer than the statement timeout', async () => {
    schema = newSchemaName('autotag_slowstep');
    await postgresSchemaAtStep(url, schema, 8, [
      [
        `INSERT INTO operations (account, channel, provider, kind, tag_id, platform, recipient, user_id, action, version, state, due_at,
           requested_at, updated_at, event_at)
         SELECT 'mantago', 'line', 'mantago', 'personal', 't-' || (i % 4), 'line', 'Ubot', 'U' || i, 'add', 1, 'done', 0, i, i, i
         FROM generate_series(1, ${ROWS}) AS i`,
        [],
      ],
    ]);
    store = open();
    const report = await store.migrate();
    // Step 9, and the steps after it.
    expect(report.applied.map((s) => s.version)).toEqual(postgresMigrations.slice(8).map((m) => m.version));
    expect((await store.status(Date.now())).operations.pending).toBe(0);
  }, 60_000);

  it('waits for another instance that holds the migration lock longer than the statement timeout', async () => {
    schema = newSchemaName('autotag_lockwait');
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      await other.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [`autotag:migrate:${schema}`]);
      store = open();
      const migrating = store.migrate();
      await new Promise((r) => setTimeout(r, STATEMENT_TIMEOUT_MS * 10));
      await other.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [`autotag:migrate:${schema}`]);
      expect((await migrating).version).toBeGreaterThanOrEqual(9);
    } finally {
      await other.end();
    }
  }, 60_000);
});
