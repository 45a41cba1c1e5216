import type { Config } from '../config';

/** Which variable points at the store, for messages: `DATABASE_URL`, or `DATA_DIR` with its folder. */
export function storeVariable(config: Pick<Config, 'databaseUrl' | 'dataDir'>): string {
  return config.databaseUrl ? 'DATABASE_URL' : `DATA_DIR: SQLite in ${config.dataDir}`;
}
