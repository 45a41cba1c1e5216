import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import DatabaseDriver from 'better-sqlite3';
import type Database from 'better-sqlite3';
import pg from 'pg';
import { silentLogger } from '../../src/log';
import { createPostgresStore } from '../../src/store/postgres';
import { createSqliteStore } from '../../src/store/sqlite';
import type { Store } from '../../src/store/store';
import { accepted, batch, tagOp } from './builders';

/** `count` pending operations of the account `mantago`, one user each (accepted 500 to a commit). */
export async function fillBacklog(store: Store, count: number, prefix: string): Promise<void> {
  for (let i = 0; i < count; i += 500) {
    const events = Array.from({ length: Math.min(500, count - i) }, (_, j) => accepted(`${prefix}-${i + j}`, [tagOp({ userId: `U${i + j}` })]));
    await store.accept(batch(1000, events));
  }
}

/** A node of PostgreSQL's `EXPLAIN (FORMAT JSON)`, with the fields the plan tests read. */
export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  'Rows Removed by Join Filter'?: number;
  Plans?: PlanNode[];
}

/** Every node of a plan, the root first. */
export const planNodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(planNodes)];

/** The plan `EXPLAIN (… FORMAT JSON)` answered. */
export const planOf = (rows: unknown[]): PlanNode => (rows[0] as { 'QUERY PLAN': { Plan: PlanNode }[] })['QUERY PLAN'][0]!.Plan;

/**
 * Rows of `relation` an `EXPLAIN (ANALYZE, FORMAT JSON)` plan read: those it kept and those its
 * filters and rechecks removed, every loop.
 */
export const rowsRead = (plan: PlanNode, relation: string): number =>
  planNodes(plan)
    .filter((n) => n['Relation Name'] === relation)
    .reduce((sum, n) => sum + ((n['Actual Rows'] ?? 0) + (n['Rows Removed by Filter'] ?? 0) + (n['Rows Removed by Index Recheck'] ?? 0)) * (n['Actual Loops'] ?? 1), 0);

/** How many rows of operations PostgreSQL statement `sql` reads, in a transaction rolled back (a write changes nothing). */
export async function operationsRowsRead(client: pg.Client, sql: string, params: unknown[]): Promise<number> {
  await client.query('BEGIN');
  try {
    return rowsRead(planOf((await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params)).rows), 'operations');
  } finally {
    await client.query('ROLLBACK');
  }
}

/** SQLite's `EXPLAIN QUERY PLAN` of a `$n` statement, every parameter bound to `value`: one detail line per step. */
export function sqlitePlan(db: Database.Database, sql: string, value: number | null = null): string[] {
  const text = sql.replace(/\$\d+/g, '?');
  return (db.prepare(`EXPLAIN QUERY PLAN ${text}`).all(...text.split('?').slice(1).map(() => value)) as { detail: string }[]).map((r) => r.detail);
}

/** A migrated PostgreSQL store in `schema` for a plan test, and a client of its own with the schema as search path. */
export async function planStore(url: string, schema: string): Promise<{ store: Store; client: pg.Client }> {
  const store = createPostgresStore({ url, schema, log: silentLogger(), poolSize: 2, connectTimeoutMs: 3000, statementTimeoutMs: 10_000 });
  await store.migrate();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`SET search_path TO "${schema}"`);
  return { store, client };
}

/** A migrated SQLite store file with `count` pending operations (fillBacklog), opened directly for plan tests; `remove` closes and deletes it. */
export async function sqliteBacklog(count: number, prefix: string): Promise<{ db: Database.Database; remove(): void }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `autotag-${prefix}-`));
  const file = path.join(dir, 'autotag.db');
  const store = createSqliteStore({ file, log: silentLogger() });
  await store.migrate();
  await fillBacklog(store, count, prefix);
  await store.close();
  const db = new DatabaseDriver(file);
  return {
    db,
    remove() {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
