import type { Logger } from '../../log';
import { checkMigrations, stepFailed, type MigrateOptions, type MigrationReport } from '../migrations/migration';
import { postgresMigrations } from '../migrations/postgres';
import { num } from '../shared/rows';
import { isUnavailable, quoteIdent, type PgDb } from './db';
import { checkServerVersion } from './server-version';

/**
 * Applies the missing steps in one transaction under an advisory lock, so instances
 * that start together wait for each other and every step runs once. The schema is
 * created under the same lock (CREATE SCHEMA IF NOT EXISTS races otherwise).
 */
export async function migratePostgres(db: PgDb, schema: string | undefined, log: Logger, opts: MigrateOptions = {}): Promise<MigrationReport> {
  checkMigrations('PostgreSQL', postgresMigrations);
  const report: MigrationReport = { applied: [], version: postgresMigrations.length };
  // Untimed: a step rewrites whole tables (minutes on a large database), and an instance
  // starting beside the one that applies it waits for the lock as long as that takes.
  await db.untimedTx(async (q) => {
    report.applied = []; // a transaction retried after a deadlock starts over
    const { rows: server } = await q(`SELECT current_setting('server_version_num') AS num, current_setting('server_version') AS version`);
    checkServerVersion(Number(server[0]?.num), String(server[0]?.version), 'the server at DATABASE_URL');
    await q('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`autotag:migrate:${schema ?? ''}`]);
    if (opts.existingOnly) {
      // Looked up through search_path: in the store's schema (NULL when that schema does not exist either).
      const { rows: found } = await q(`SELECT to_regclass('schema_migrations') IS NOT NULL AS present`);
      if (found[0]?.present !== true) {
        throw new Error(
          `this PostgreSQL database holds no chat-autotag store${schema ? ` in schema ${schema}` : ''}, so the service has not run with this ` +
            `DATABASE_URL${schema ? ' and DATABASE_SCHEMA' : ''}; nothing was created. Run the command with the service's DATABASE_URL` +
            `${schema ? ' and DATABASE_SCHEMA' : ' (and its DATABASE_SCHEMA, if it has one)'}`,
        );
      }
    }
    if (schema) await q(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    await q(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at BIGINT NOT NULL
    )`);
    const { rows } = await q('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((r) => num(r.version, 'version')));
    const newest = Math.max(0, ...applied);
    if (newest > postgresMigrations.length) {
      throw new Error(
        `the PostgreSQL store${schema ? ` (schema ${schema})` : ''} has schema version ${newest}, newer than this release knows (${postgresMigrations.length}); run a newer release`,
      );
    }
    for (const m of postgresMigrations) {
      if (applied.has(m.version)) continue;
      try {
        await q(m.sql);
      } catch (err) {
        // A database that cannot serve us is said as such (StoreUnavailableError, by the caller's tx).
        if (isUnavailable(err)) throw err;
        throw stepFailed(`the PostgreSQL store${schema ? ` (schema ${schema})` : ''}`, m, err);
      }
      await q('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
      report.applied.push({ version: m.version, name: m.name });
    }
  });
  // Said once committed: a later step's failure rolls back the earlier ones too.
  for (const m of report.applied) log.info('store migration applied', { engine: 'postgres', version: m.version, name: m.name });
  return report;
}
