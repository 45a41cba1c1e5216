import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { workChannel } from '../../src/store/postgres';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** BENCH_DATABASE_URL, else TEST_DATABASE_URL, else the local test database. */
export function benchDatabaseUrl(): string {
  return process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || DEFAULT_DATABASE_URL;
}

/** The URL without a password, for reports. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/** A schema name of its own for one run (the service creates it; `dropSchema` removes it). */
export function freshSchema(bench: string): string {
  return `bench_${bench}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/** Undefined when the database answers, else why not. */
export async function unreachableReason(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (err) {
    return `PostgreSQL at ${describeUrl(url)} is unreachable: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema.replace(/"/g, '""')}" CASCADE`);
  } finally {
    await client.end();
  }
}

/**
 * Holds every pending tag operation of `schema` for an hour (`due_at`), so services started on
 * it one after another stay idle until `releaseOperations`: then they all begin at once.
 */
export async function holdOperations(url: string, schema: string): Promise<void> {
  await withClient(url, (c) => c.query(`UPDATE "${schema.replace(/"/g, '""')}".operations SET due_at = $1 WHERE state = 'pending'`, [Date.now() + 3_600_000]));
}

/** Makes the operations `holdOperations` held due now and wakes every instance on `schema` (the NOTIFY accepted work sends). */
export async function releaseOperations(url: string, schema: string): Promise<void> {
  await withClient(url, async (c) => {
    await c.query(`UPDATE "${schema.replace(/"/g, '""')}".operations SET due_at = $1 WHERE state = 'pending'`, [Date.now()]);
    await c.query('SELECT pg_notify($1, $2)', [workChannel(schema), 'bench operations']);
  });
}

async function withClient<T>(url: string, use: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}
