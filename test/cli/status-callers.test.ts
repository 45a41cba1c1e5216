import fs from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { silentLogger } from '../../src/log';
import { createPostgresStore } from '../../src/store/postgres';
import { advisoryLockKey } from '../../src/store/postgres/advisory-lock';
import type { Liveness } from '../../src/store/postgres/liveness';
import type { InstanceSession, Store, StoreStatus } from '../../src/store/store';
import { tempDir } from '../helpers/app-harness';
import { describePostgres, dropSchema, newSchemaName } from '../helpers/pg-schema';
import { ask } from '../store/builders';
import { lockHolderPid, until } from '../store/pg-waits';
import { runCli } from './cli-run';

/*
 * `autotag status` names the instance calling each provider account (README "Several
 * instances"): the CLI run for real against a PostgreSQL store whose caller role a real
 * session (a store of this test process, as a serving instance holds it) holds.
 */

/** The keys of `status --json` before this. */
const BEFORE = ['operations', 'forwards', 'channels', 'accounts', 'lifetimes', 'pauses'];
const MANTAGO = { MANTAGO_TOKEN: 'caller-status-token', MANTAGO_BOT_ID: '1234', MANTAGO_SECRET: 'caller-status-secret' };

describePostgres('autotag status: the caller of each provider account (PostgreSQL)', (url) => {
  const admin = new pg.Pool({ connectionString: url, max: 1 });
  let schema: string;
  let instance: Store;
  let session: InstanceSession;

  beforeEach(async () => {
    schema = newSchemaName('autotag_statuscallers');
    instance = createPostgresStore({ url, schema, log: silentLogger(), poolSize: 2, connectTimeoutMs: 3000, statementTimeoutMs: 10_000 });
    await instance.migrate();
    session = await instance.startSession();
    // The environment's MantaGo account, configured but with nothing queued; brand-b only has operations waiting.
    session.callers!.want('mantago');
    await until('the role of mantago is held', async () => session.callers!.holds('mantago'));
    const now = Date.now();
    await ask(instance, now - 60_000, { account: 'brand-b', channel: 'brand-b-line', tagId: 'b1' });
    await ask(instance, now - 30_000, { account: 'brand-b', channel: 'brand-b-line', tagId: 'b2' });
  });
  afterEach(async () => {
    await instance.close();
    await dropSchema(url, schema);
  });
  afterAll(async () => {
    await admin.end();
  });

  const env = (extra: Record<string, string> = {}) => ({ DATABASE_URL: url, DATABASE_SCHEMA: schema, ...MANTAGO, ...extra });

  it('--json: a new key `callers`, the holder named by its instance id, session name, address and backend pid; the rest as before', async () => {
    const r = await runCli(['status', '--json'], env());
    expect([r.code, r.stderr]).toEqual([0, '']);
    const status = JSON.parse(r.stdout) as StoreStatus;
    const pid = await lockHolderPid(admin, advisoryLockKey(schema, 'caller:mantago'));
    expect(status.callers).toEqual([
      { account: 'brand-b', holder: null, pending: 2 },
      {
        account: 'mantago',
        holder: { instance: (session as Liveness).holder, since: expect.any(Number), name: `autotag ${hostname()} pid ${process.pid}`, clientAddress: '127.0.0.1', backendPid: pid },
        pending: 0,
      },
    ]);
    // Additive: every key of before, and `callers` last.
    expect(Object.keys(status).sort()).toEqual([...BEFORE, 'callers'].sort());
    expect(Object.keys(status).at(-1)).toBe('callers');
  });

  it('text: a line per account, the one nobody calls saying its operations wait; with PROVIDER_CALLERS=every only the held roles', async () => {
    const id = (session as Liveness).holder!;
    const pid = await lockHolderPid(admin, advisoryLockKey(schema, 'caller:mantago'));
    const held = `  mantago: called by instance ${id} (autotag ${hostname()} pid ${process.pid}, client 127.0.0.1, database pid ${pid}), its session held since `;
    const r = await runCli(['status'], env());
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toContain('\ncaller of each provider account (PROVIDER_CALLERS=one: only the instance holding its role calls it):\n');
    expect(r.stdout).toContain('\n  brand-b: no instance holds its caller role: its 2 pending operations wait until one takes it\n');
    expect(r.stdout).toContain(`\n${held}`);

    const every = await runCli(['status'], env({ PROVIDER_CALLERS: 'every' }));
    expect(every.code).toBe(0);
    expect(every.stdout).toContain('\ncaller roles held (PROVIDER_CALLERS=every here: every instance so set calls every account):\n');
    expect(every.stdout).toContain(`\n${held}`);
    expect(every.stdout).not.toContain('brand-b: no instance');

    // Given up (the instance stops): nothing held, and the text says brand-b's operations wait, as before.
    await session.callers!.releaseAll();
    const after = await runCli(['status'], env());
    expect(after.stdout).not.toContain('mantago: called by');
    expect(after.stdout).toContain('\n  brand-b: no instance holds its caller role');
  });
});

describe('autotag status on SQLite: nothing about callers', () => {
  it('one process makes every call: no caller lines, no `callers` key', async () => {
    const dir = tempDir('autotag-statuscallers-');
    try {
      const env = { DATA_DIR: path.join(dir, 'data'), ...MANTAGO };
      expect((await runCli(['migrate'], env)).code).toBe(0);
      const text = await runCli(['status'], env);
      expect(text.code).toBe(0);
      expect(text.stdout).toContain('tag operations');
      expect(text.stdout).not.toMatch(/caller/i);
      const json = await runCli(['status', '--json'], env);
      expect(Object.keys(JSON.parse(json.stdout) as object).sort()).toEqual([...BEFORE].sort());
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
