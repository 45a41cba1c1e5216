import { ConfigError, loadConfig, secretsOf, type Config } from '../config';
import { createLogger } from '../log';
import type { Store } from '../store/store';

/** Where a command writes; tests pass buffers. */
export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export const processIo: CommandIo = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
};

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
    config = loadConfig(env);
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

/** Renders rows as an aligned plain-text table. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

export function formatAge(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 172_800_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} d`;
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
