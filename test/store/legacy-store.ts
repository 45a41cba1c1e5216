import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from '../../src/store/sqlite/driver';
import pg from 'pg';
import { postgresMigrations } from '../../src/store/migrations/postgres';
import { sqliteMigrations } from '../../src/store/migrations/sqlite';
import { silentLogger } from '../../src/log';
import { createPostgresStore } from '../../src/store/postgres';
import { createSqliteStore } from '../../src/store/sqlite';
import type { Store } from '../../src/store/store';
import { describePostgres, dropSchema, newSchemaName } from '../helpers/pg-schema';

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

/**
 * `checks` against a store left at step `fromStep` holding `rows`, opened (and so migrated to
 * the latest step) by the current code: once on a SQLite file, once in a fresh PostgreSQL schema
 * (`pgAfter`: statements run there after the rows, e.g. a sequence set as BIGSERIAL had it).
 */
export function upgradedOnBothEngines(
  what: string,
  fromStep: number,
  rows: LegacyRows,
  checks: (open: () => Promise<Store>) => void,
  pgAfter: string[] = [],
): void {
  describe(`${what} on a SQLite store of step ${fromStep}`, () => {
    let dir: string;
    let store: Store | undefined;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), `autotag-from-step${fromStep}-`));
    });
    afterEach(async () => {
      await store?.close();
      store = undefined;
      fs.rmSync(dir, { recursive: true, force: true });
    });

    checks(async () => {
      const file = path.join(dir, 'autotag.db');
      sqliteFileAtStep(file, fromStep, rows);
      store = createSqliteStore({ file, log: silentLogger() });
      await store.migrate();
      return store;
    });
  });

  describePostgres(`${what} on a PostgreSQL store of step ${fromStep}`, (url) => {
    let schema: string;
    let store: Store | undefined;
    afterEach(async () => {
      await store?.close();
      store = undefined;
      await dropSchema(url, schema);
    });

    checks(async () => {
      schema = newSchemaName(`autotag_from${fromStep}`);
      await postgresSchemaAtStep(url, schema, fromStep, rows, pgAfter);
      store = createPostgresStore({ url, schema, log: silentLogger(), poolSize: 2, connectTimeoutMs: 3000, statementTimeoutMs: 10_000 });
      await store.migrate();
      return store;
    });
  });
}
