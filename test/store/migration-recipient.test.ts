import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { silentLogger } from '../../src/log';
import { postgresMigrations } from '../../src/store/migrations/postgres';
import { sqliteMigrations } from '../../src/store/migrations/sqlite';
import { createPostgresStore } from '../../src/store/postgres';
import { createSqliteStore } from '../../src/store/sqlite';
import type { Store } from '../../src/store/store';
import { describePostgres, dropSchema, newSchemaName } from '../helpers/pg-schema';

/*
 * Store step 3 (recipient column, dead-letter codes) on a store written by release 1 (step 1): the column that held the recipient is
 * renamed, and dead letters kept while a provider had no token get their reason code,
 * so they are queued again by the code, not by their text.
 */

/** Rows as release 1 wrote them. $n placeholders are PostgreSQL's; SQLite takes them as ?n. */
const LEGACY_ROWS: [string, (string | number)[]][] = [
  ...(
    [
      [1, 'mantago', 'tag-token', 'MANTAGO_TOKEN is not set'],
      [2, 'botbonnie', 'tag-bb', 'BOTBONNIE_TOKEN is not set'],
      [3, 'mantago', 'tag-bad', '400 from mantago: bad tag'],
      // Another provider's reason text: not this provider's missing token.
      [4, 'botbonnie', 'tag-odd', 'MANTAGO_TOKEN is not set'],
    ] as const
  ).map(([id, provider, tag, reason]): [string, (string | number)[]] => [
    `INSERT INTO operations (id, provider, kind, tag_id, platform, channel, user_id, action, version, state, due_at, requested_at,
       dead_reason, dead_at, updated_at)
     VALUES ($1, $2, 'personal', $3, 'line', 'Udest', 'U1', 'add', 1, 'dead', 100, 100, $4, 200, 200)`,
    [id, provider, tag, reason],
  ]),
  [
    `INSERT INTO history_events (received_at, platform, channel, user_id, event_id, kind, type, matched, operations)
     VALUES (100, 'line', 'Udest', 'U1', 'E1', 'message', 'message/text', '["r1"]', $1)`,
    [JSON.stringify([{ action: 'add', provider: 'mantago', kind: 'personal', tagId: 'tag-token', platform: 'line', channel: 'Udest', userId: 'U1' }])],
  ],
  [
    `INSERT INTO history_calls (at, user_id, operation, version, outcome, error) VALUES (200, 'U1', $1, 1, 'dead', 'MANTAGO_TOKEN is not set')`,
    [JSON.stringify({ action: 'add', provider: 'mantago', kind: 'personal', tagId: 'tag-token', platform: 'line', channel: 'Udest', userId: 'U1' })],
  ],
];

function checks(open: () => Promise<Store>): void {
  it('maps the dead letters of an unconfigured provider to their code, and only those', async () => {
    const store = await open();
    const dead = await store.listDeadLetters();
    expect(dead.map((d) => [d.operation?.tagId, d.code ?? null]).sort()).toEqual([
      ['tag-bad', null],
      ['tag-bb', 'provider_not_configured'],
      ['tag-odd', null],
      ['tag-token', 'provider_not_configured'],
    ]);
    expect(dead.find((d) => d.operation?.tagId === 'tag-token')?.operation).toEqual({
      action: 'add', provider: 'mantago', kind: 'personal', tagId: 'tag-token', platform: 'line', recipient: 'Udest', userId: 'U1',
    });
    expect(await store.requeueDeadOperations('mantago', 'provider_not_configured', 1000)).toBe(1);
    expect(await store.requeueDeadOperations('botbonnie', 'provider_not_configured', 1000)).toBe(1);
    expect((await store.listDeadLetters()).map((d) => d.operation?.tagId).sort()).toEqual(['tag-bad', 'tag-odd']);
  });

  it('reads the history written before it with the recipient', async () => {
    const store = await open();
    const history = await store.userHistory('U1');
    const op = { action: 'add', provider: 'mantago', kind: 'personal', tagId: 'tag-token', platform: 'line', recipient: 'Udest', userId: 'U1' };
    expect(history.events).toEqual([expect.objectContaining({ recipient: 'Udest', eventId: 'E1', operations: [op] })]);
    expect(history.calls).toEqual([expect.objectContaining({ operation: op, outcome: 'dead' })]);
  });
}

describe('store step 3 on a SQLite store of step 1', () => {
  let dir: string;
  let store: Store | undefined;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autotag-migrate-'));
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  checks(async () => {
    const file = path.join(dir, 'autotag.db');
    const raw = new Database(file);
    raw.exec(sqliteMigrations[0]!.sql);
    raw.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    raw.prepare('INSERT INTO schema_migrations VALUES (1, ?, 0)').run(sqliteMigrations[0]!.name);
    // Bound by number, as the store's own SQLite runner does.
    for (const [sql, params] of LEGACY_ROWS) raw.prepare(sql.replace(/\$(\d+)/g, '?$1')).run(Object.fromEntries(params.map((p, i) => [i + 1, p])));
    raw.close();
    store = createSqliteStore({ file, log: silentLogger() });
    await store.migrate();
    return store;
  });
});

describePostgres('store step 3 on a PostgreSQL store of step 1', (url) => {
  let schema: string;
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
    await dropSchema(url, schema);
  });

  checks(async () => {
    schema = newSchemaName('autotag_m2');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA "${schema}"`);
      await client.query(`SET search_path TO "${schema}"`);
      await client.query(postgresMigrations[0]!.sql);
      await client.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
      await client.query('INSERT INTO schema_migrations VALUES (1, $1, 0)', [postgresMigrations[0]!.name]);
      for (const [sql, params] of LEGACY_ROWS) await client.query(sql, params);
    } finally {
      await client.end();
    }
    store = createPostgresStore({ url, schema, log: silentLogger(), poolSize: 2, connectTimeoutMs: 3000, statementTimeoutMs: 10_000 });
    await store.migrate();
    return store;
  });
});
