import fs from 'node:fs';
import type { Config } from '../config';
import { storeVariable } from '../store/store-variable';
import { sqliteFileIn } from '../store/sqlite-file';
import type { MigrationReport } from '../store/migrations/migration';
import type { Store } from '../store/store';
import { leftOutWarning, type CommandIo } from './command-io';

export * from './command-io';

/**
 * Opens the store the environment points at, runs `fn`, closes the store.
 * Logs go to stderr (stdout is kept for the command's own output, e.g. --json).
 * `create: false` (the commands that only look or requeue): an SQLite file that does
 * not exist is an error naming it — opening it would create an empty store and
 * report zeros, which reads as "all is well" when DATA_DIR is simply wrong.
 */
export async function withStore(
  /** Its errors begin `autotag COMMAND:`, as every command's do. */
  command: string,
  env: NodeJS.ProcessEnv,
  io: CommandIo,
  fn: (store: Store, config: Config) => Promise<number>,
  opts: {
    create: boolean;
    onMigrated?: (report: MigrationReport) => void;
    /** A broken channels file: left out (the default: commands that only read or requeue), or refused. */
    channelsFileProblems?: 'error' | 'leave-out';
  } = { create: false },
): Promise<number> {
  // Loaded on use (as the store below): `autotag --help` must not wait for zod and winston.
  const { ConfigError, loadConfig, secretsOf } = await import('../config');
  const { createLogger } = await import('../log');
  let config: Config;
  try {
    // These commands need no secrets: an unset variable of the channels file is no reason to refuse them;
    // nor, for those that only read or requeue, a broken channels file: said, and they go on without it.
    config = loadConfig(env, { unsetVariables: 'warning', channelsFileProblems: opts.channelsFileProblems ?? 'leave-out' });
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr(`autotag ${command}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  if (config.channelsFileLeftOut) io.stderr(leftOutWarning(command, config.channelsFileLeftOut));
  if (!config.databaseUrl && !opts.create) {
    const file = sqliteFileIn(config.dataDir);
    if (!fs.existsSync(file)) {
      io.stderr(
        `autotag ${command}: no store at ${file}: the file does not exist, so the service has not run with this DATA_DIR. ` +
          "Run this command with the service's DATA_DIR (or its DATABASE_URL for PostgreSQL).\n",
      );
      return 1;
    }
  }
  const log = createLogger({ level: 'warn', secrets: secretsOf(config), stream: process.stderr });
  let store: Store;
  try {
    // Loaded on use: the database drivers are not needed by commands that never open the store.
    const { openStore } = await import('../store/open-store');
    // The reading commands refuse a store the service never wrote rather than create an empty one.
    store = await openStore(config, log, opts.onMigrated, { existingOnly: !opts.create });
  } catch (err) {
    io.stderr(`autotag ${command}: cannot open the store (${storeVariable(config)}): ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  try {
    return await fn(store, config);
  } finally {
    await store.close();
  }
}
