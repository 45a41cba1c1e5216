import path from 'node:path';
import type { Config } from '../config';
import type { Logger } from '../log';
import type { Store } from './store';
import { createPostgresStore } from './postgres';
import { createSqliteStore } from './sqlite';

/** The file of the embedded store inside DATA_DIR. */
export const SQLITE_FILE_NAME = 'autotag.db';

/**
 * The store the configuration asks for — SQLite in DATA_DIR when DATABASE_URL is
 * unset, PostgreSQL otherwise — with its schema brought up to date. A store that
 * cannot be migrated is closed again before the error is thrown.
 */
export async function openStore(config: Config, log: Logger): Promise<Store> {
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
    : createSqliteStore({ file: path.join(config.dataDir, SQLITE_FILE_NAME), log });
  try {
    await store.migrate();
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  return store;
}
