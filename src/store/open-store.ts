import type { Config } from '../config';
import type { Logger } from '../log';
import type { MigrateOptions, MigrationReport } from './migrations/migration';
import type { Store } from './store';
import { createPostgresStore } from './postgres';
import { createSqliteStore } from './sqlite';
import { sqliteFileIn } from './sqlite-file';

export { SQLITE_FILE_NAME } from './sqlite-file';

/**
 * The store the configuration asks for — SQLite in DATA_DIR when DATABASE_URL is
 * unset, PostgreSQL otherwise — with its schema brought up to date. A store that
 * cannot be migrated is closed again before the error is thrown.
 */
export async function openStore(
  config: Config,
  log: Logger,
  onMigrated?: (report: MigrationReport) => void,
  migrateOptions: MigrateOptions = {},
): Promise<Store> {
  const store = config.databaseUrl
    ? createPostgresStore({
        url: config.databaseUrl,
        log,
        poolSize: config.database.poolSize,
        connectTimeoutMs: config.database.connectTimeoutMs,
        statementTimeoutMs: config.database.statementTimeoutMs,
        tls: config.database.tls,
        ...(config.database.schema ? { schema: config.database.schema } : {}),
      })
    : createSqliteStore({ file: sqliteFileIn(config.dataDir), log });
  try {
    const report = await store.migrate(migrateOptions);
    onMigrated?.(report);
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  return store;
}
