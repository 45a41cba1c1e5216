import pg from 'pg';
import { toStoreError } from './db';

/** The text whose hash is the lock's key: one lock per (schema, name). */
export function advisoryLockKey(schema: string | undefined, name: string): string {
  return `autotag:lock:${schema ?? ''}:${name}`;
}

/**
 * The granted advisory locks on one bigint key of this database, as `(pid, key)` rows for a
 * `WITH` clause: pg_locks shows such a key as classid (its high half), objid (its low half) and
 * objsubid 1, and `(classid << 32) | objid` is the key again, sign included. MATERIALIZED: one
 * read of pg_locks serves every join of the statement, so they see the same moment.
 */
export const GRANTED_ADVISORY_LOCKS = `locks AS MATERIALIZED (
    SELECT pid, (classid::bigint << 32) | objid::bigint AS key
    FROM pg_locks
    WHERE locktype = 'advisory' AND granted AND objsubid = 1
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
  )`;

/**
 * Runs `fn` holding a session advisory lock on a connection opened for it alone.
 * Not a pooled connection: `fn` usually uses the store itself and must not wait for
 * the pool while this holds a slot. If this process dies, its connection closes and
 * PostgreSQL drops the lock.
 */
export async function withAdvisoryLock<T>(config: () => Promise<pg.ClientConfig>, key: string, fn: () => Promise<T>): Promise<T> {
  const client = new pg.Client(await config());
  // A connection that drops while `fn` runs: the lock is gone, the error is not ours to crash on.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [key]);
  } catch (err) {
    await client.end().catch(() => undefined);
    throw toStoreError(err);
  }
  try {
    return await fn();
  } finally {
    // Unlock first so the next holder does not wait for the session to wind down;
    // closing the session would release it too.
    await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]).catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}
