import type { Logger } from '../../log';
import { checkMigrations, stepFailed, type MigrateOptions, type MigrationReport } from '../migrations/migration';
import { sqliteMigrations } from '../migrations/sqlite';
import { num } from '../shared/rows';
import type { SqliteDb } from './db';

/**
 * Applies the missing steps, each in the same IMMEDIATE transaction as its record,
 * so two processes opening the file together apply each step once.
 */
export function migrateSqlite(db: SqliteDb, log: Logger, opts: MigrateOptions = {}): MigrationReport {
  checkMigrations('SQLite', sqliteMigrations);
  const report: MigrationReport = { applied: [], version: sqliteMigrations.length };
  db.tx(() => {
    if (opts.existingOnly && db.all(`SELECT 1 AS present FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).length === 0) {
      throw new Error(`the SQLite file ${db.file} holds no chat-autotag store, so the service has not run with it; nothing was created in it`);
    }
    db.raw.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at INTEGER NOT NULL
    )`);
    const applied = new Set(db.all('SELECT version FROM schema_migrations').map((r) => num(r.version, 'version')));
    const newest = Math.max(0, ...applied);
    if (newest > sqliteMigrations.length) {
      throw new Error(
        `the SQLite store at ${db.file} has schema version ${newest}, newer than this release knows (${sqliteMigrations.length}); run a newer release`,
      );
    }
    for (const m of sqliteMigrations) {
      if (applied.has(m.version)) continue;
      try {
        db.raw.exec(m.sql);
      } catch (err) {
        throw stepFailed(`the SQLite store at ${db.file}`, m, err);
      }
      db.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
      report.applied.push({ version: m.version, name: m.name });
    }
  });
  // Said once committed: a later step's failure rolls back the earlier ones too.
  for (const m of report.applied) log.info('store migration applied', { engine: 'sqlite', version: m.version, name: m.name });
  return report;
}
