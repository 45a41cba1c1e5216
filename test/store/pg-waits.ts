import type pg from 'pg';
import { workChannel } from '../../src/store/postgres';
import type { Store, WorkKind } from '../../src/store/store';
import { deferred } from './builders';

/** Waits for a condition only the database can show (no event exists for it), checking every 10 ms. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Until `connections` connections (one per listening store) are listening on the schema's channel
 * (pg_stat_activity shows their last statement).
 */
export function listening(admin: pg.Pool, schema: string, connections = 1): Promise<void> {
  return until(`${connections} connection(s) LISTEN for ${schema}`, async () => {
    const { rows } = await admin.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle' AND query = $1`,
      [`LISTEN "${workChannel(schema)}"`],
    );
    return (rows[0]?.n ?? 0) >= connections;
  });
}

/** Collects wake-ups and lets a test await the next ones. */
export function wakeRecorder(store: Store) {
  const kinds: WorkKind[] = [];
  let waiting: { count: number; resolve(): void } | undefined;
  store.onWork((k) => {
    kinds.push(k);
    if (waiting && kinds.length >= waiting.count) waiting.resolve();
  });
  return {
    kinds,
    next(count: number): Promise<void> {
      const d = deferred();
      waiting = { count: kinds.length + count, resolve: d.resolve };
      if (kinds.length >= waiting.count) d.resolve();
      return d.promise;
    },
  };
}

/** The backend pid of the session that holds the advisory lock on `key` (advisoryLockKey), to end it as a crash or a cut would. */
export async function lockHolderPid(admin: pg.Pool, key: string): Promise<number | undefined> {
  const { rows } = await admin.query<{ pid: number }>(
    `SELECT l.pid FROM pg_locks l, (SELECT hashtextextended($1, 0) AS h) k
     WHERE l.locktype = 'advisory' AND l.granted
       AND l.classid::bigint = (k.h >> 32) & 4294967295 AND l.objid::bigint = k.h & 4294967295`,
    [key],
  );
  return rows.length === 1 ? rows[0]!.pid : undefined;
}
