import { ConfigError, loadConfig, secretsOf, type Config } from '../config';
import { createLogger } from '../log';
import type { Store } from '../store/store';
import type { CommandIo } from './command-io';

export * from './command-io';

/**
 * Opens the store the environment points at, runs `fn`, closes the store.
 * Logs go to stderr (stdout is kept for the command's own output, e.g. --json).
 */
export async function withStore(
  env: NodeJS.ProcessEnv,
  io: CommandIo,
  fn: (store: Store, config: Config) => Promise<number>,
): Promise<number> {
  let config: Config;
  try {
    // These commands need no secrets: an unset variable of the channels file is no reason to refuse them.
    config = loadConfig(env, { unsetVariables: 'warning' });
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const log = createLogger({ level: 'warn', secrets: secretsOf(config), stream: process.stderr });
  let store: Store;
  try {
    // Loaded on use: the database drivers are not needed by commands that never open the store.
    const { openStore } = await import('../store/open-store');
    store = await openStore(config, log);
  } catch (err) {
    io.stderr(`cannot open the store (${config.databaseUrl ? 'DATABASE_URL' : `SQLite in ${config.dataDir}`}): ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  try {
    return await fn(store, config);
  } finally {
    await store.close();
  }
}
