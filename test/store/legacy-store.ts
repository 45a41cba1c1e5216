import Database from '../../src/store/sqlite/driver';
import pg from 'pg';
import { postgresMigrations } from '../../src/store/migrations/postgres';
import { sqliteMigrations } from '../../src/store/migrations/sqlite';

/**
 * A database as an earlier release left it: the schema steps up to `step` applied (and
 * recorded), then rows written as that release wrote them — for the tests that upgrade it.
 * Statements use PostgreSQL's $n placeholders; SQLite takes them as ?n.
 */
export type LegacyRows = [string, (string | number | null)[]][];

export function sqliteFileAtStep(file: string, step: number, rows: LegacyRows): void {
  const raw = new Database(file);
  try {
    raw.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    for (const m of sqliteMigrations.slice(0, step)) {
      raw.exec(m.sql);
      raw.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name);
    }
    // Bound by number, as the store's own SQLite runner does.
    for (const [sql, params] of rows) raw.prepare(sql.replace(/\$(\d+)/g, '?$1')).run(Object.fromEntries(params.map((p, i) => [i + 1, p])));
  } finally {
    raw.close();
  }
}

/** `after`: statements PostgreSQL needs to look like that release's database (e.g. a sequence's position). */
export async function postgresSchemaAtStep(url: string, schema: string, step: number, rows: LegacyRows, after: string[] = []): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA "${schema}"`);
    await client.query(`SET search_path TO "${schema}"`);
    await client.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
    for (const m of postgresMigrations.slice(0, step)) {
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations VALUES ($1, $2, 0)', [m.version, m.name]);
    }
    for (const [sql, params] of rows) await client.query(sql, params);
    for (const sql of after) await client.query(sql);
  } finally {
    await client.end();
  }
}
