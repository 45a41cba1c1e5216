import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { silentLogger } from '../../src/log';
import { createPostgresStore } from '../../src/store/postgres';
import { createSqliteStore } from '../../src/store/sqlite';
import { advisoryLockKey } from '../../src/store/postgres/advisory-lock';
import { sessionName, type Liveness } from '../../src/store/postgres/liveness';
import type { CallerRoles, InstanceSession, Store } from '../../src/store/store';
import { NO_ACCOUNT } from '../../src/tag-operation';
import { tempDir } from '../helpers/app-harness';
import { describePostgres, dropSchema, newSchemaName } from '../helpers/pg-schema';
import { ask } from './builders';
import { lockHolderPid, until } from './pg-waits';

/*
 * StoreStatus.callers (README "Several instances"): who holds each provider account's caller
 * role, read from PostgreSQL's locks by a process that holds no session (as `autotag status`
 * does), with the sessions of two real stores holding and waiting for the roles.
 */

const NOW = 1_800_000_000_000;

describePostgres('PostgreSQL: the holders of the caller roles in the status', (url) => {
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  let schema: string;
  let a: Store;
  let b: Store;
  let reader: Store;

  const open = () => createPostgresStore({ url, schema, log: silentLogger(), poolSize: 2, connectTimeoutMs: 3000, statementTimeoutMs: 10_000 });
  const rolesOf = (s: InstanceSession): CallerRoles => {
    if (!s.callers) throw new Error('a PostgreSQL session has caller roles');
    return s.callers;
  };
  const idOf = (s: InstanceSession): string => {
    const id = (s as Liveness).holder;
    if (!id) throw new Error('the session is not held');
    return id;
  };
  // 10 s: a role beyond the share (a wants two accounts, b none, two live instances) is taken after a patience of 2.5 s.
  const holding = (roles: CallerRoles, account: string) => until(`the role of ${account} is held`, async () => roles.holds(account), 10_000);
  const callers = async (store: Store, accounts: string[]) => (await store.status(NOW, { callerAccounts: accounts })).callers;

  beforeEach(async () => {
    schema = newSchemaName('autotag_callerstatus');
    a = open();
    b = open();
    reader = open();
    await a.migrate();
  });
  afterEach(async () => {
    await Promise.all([a.close(), b.close(), reader.close()]);
    await dropSchema(url, schema);
  });
  afterAll(async () => {
    await admin.end();
  });

  it('names the instance holding each role, and the accounts with pending operations whose role nobody holds', async () => {
    const [sa, sb] = await Promise.all([a.startSession(), b.startSession()]);
    const [ra, rb] = [rolesOf(sa), rolesOf(sb)];
    ra.want('brand-a');
    ra.want('brand-c');
    await holding(ra, 'brand-a');
    await holding(ra, 'brand-c');
    rb.want('brand-a'); // waits: a holds it
    await ask(a, NOW - 5000, { account: 'brand-a', channel: 'brand-a-line' });
    await ask(a, NOW - 4000, { account: 'brand-b', channel: 'brand-b-line', tagId: 'b1' });
    await ask(a, NOW - 3000, { account: 'brand-b', channel: 'brand-b-line', tagId: 'b2' });
    await ask(a, NOW - 2000, { account: NO_ACCOUNT, provider: 'botbonnie' });

    const pid = await lockHolderPid(admin, advisoryLockKey(schema, 'caller:brand-a'));
    expect(pid).toBeDefined();
    const holderA = { instance: idOf(sa), since: expect.any(Number), name: sessionName(), clientAddress: '127.0.0.1', backendPid: pid };
    // brand-c: held, nothing pending, known because it is configured; brand-d: configured, neither held nor pending (left out);
    // brand-b: pending and nobody's; the operations no account could take have no role.
    expect(await callers(reader, ['brand-a', 'brand-c', 'brand-d'])).toEqual([
      { account: 'brand-a', holder: holderA, pending: 1 },
      { account: 'brand-b', holder: null, pending: 2 },
      { account: 'brand-c', holder: holderA, pending: 0 },
    ]);
    // An account held but neither configured nor with operations is not looked for (its lock key is a hash of its name).
    expect((await callers(reader, ['brand-a']))?.map((c) => c.account)).toEqual(['brand-a', 'brand-b']);
    // The instance that holds it reads itself as the holder; the other does not.
    expect((await callers(a, ['brand-a']))?.[0]?.holder).toEqual({ ...holderA, thisInstance: true });
    expect((await callers(b, ['brand-a']))?.[0]?.holder).toEqual(holderA);
    // Not asked for: the status is as before.
    expect(await reader.status(NOW)).not.toHaveProperty('callers');

    // b takes brand-b: its own instance id, another database session.
    rb.want('brand-b');
    await holding(rb, 'brand-b');
    const brandB = (await callers(reader, []))?.[1];
    expect(brandB).toEqual({ account: 'brand-b', holder: { ...holderA, instance: idOf(sb), backendPid: expect.any(Number) }, pending: 2 });
    expect(brandB?.holder?.backendPid).not.toBe(pid);
  });

  it('follows the role when its holder\'s session ends: the waiting instance is named', async () => {
    const [sa, sb] = await Promise.all([a.startSession(), b.startSession()]);
    const [ra, rb] = [rolesOf(sa), rolesOf(sb)];
    ra.want('brand-a');
    await holding(ra, 'brand-a');
    rb.want('brand-a');
    await ask(a, NOW - 5000, { account: 'brand-a', channel: 'brand-a-line' });
    expect((await callers(reader, ['brand-a']))?.[0]?.holder?.instance).toBe(idOf(sa));

    const pid = await lockHolderPid(admin, advisoryLockKey(schema, 'caller:brand-a'));
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    await holding(rb, 'brand-a');
    const [role] = (await callers(reader, ['brand-a']))!;
    expect(role?.holder?.instance).toBe(idOf(sb));
    expect(role?.holder?.backendPid).toBe(await lockHolderPid(admin, advisoryLockKey(schema, 'caller:brand-a')));

    // Given up (a stop): nobody holds it, and its operation waits.
    await rb.releaseAll();
    expect(await callers(reader, ['brand-a'])).toEqual([{ account: 'brand-a', holder: null, pending: 1 }]);
  });
});

describePostgres('PostgreSQL: the holder of a caller role while its check sweeps a gone instance', (url) => {
  // Both orders of the rows: which match a join yields last depends on where the rows lie.
  it.each([
    ['live-a', 'gone-g'],
    ['gone-g', 'live-a'],
  ])('names the holder\'s own instance, not the gone one whose lock its sweep holds for a moment (rows %s, %s)', async (first, second) => {
    const schema = newSchemaName('autotag_callersweep');
    const store = createPostgresStore({ url, schema, log: silentLogger(), poolSize: 2, connectTimeoutMs: 3000, statementTimeoutMs: 10_000 });
    const holder = new pg.Client({ connectionString: url });
    try {
      await store.migrate();
      await holder.connect();
      await holder.query(`INSERT INTO ${schema}.instances (id, started_at) VALUES ($1, $2), ($3, $4)`, [
        ...[first, second].flatMap((id) => [id, id === 'live-a' ? NOW - 60_000 : NOW - 1000]),
      ]);
      // live-a's session: its own lock and the caller role, as liveness.ts and caller-roles.ts take them.
      await holder.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [advisoryLockKey(schema, 'instance:live-a')]);
      await holder.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [advisoryLockKey(schema, 'caller:brand-a')]);
      // Its check is sweeping gone-g (SWEEP_GONE): the transaction-scoped lock on gone-g's key is held
      // by the same session until the DELETE commits, and gone-g's row is still there for other readers.
      await holder.query('BEGIN');
      await holder.query('SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))', [advisoryLockKey(schema, 'instance:gone-g')]);
      await holder.query(`DELETE FROM ${schema}.instances WHERE id = 'gone-g'`);
      // Read while that DELETE has not committed (a moment, in the service; here as long as the reads take).
      for (let i = 0; i < 5; i++) {
        const [role] = (await store.status(NOW, { callerAccounts: ['brand-a'] })).callers!;
        expect(role?.holder?.instance).toBe('live-a');
        expect(role?.holder?.since).toBe(NOW - 60_000);
      }
      await holder.query('COMMIT');
    } finally {
      await holder.end().catch(() => undefined);
      await store.close();
      await dropSchema(url, schema);
    }
  });
});

describe('SQLite: no caller roles in the status', () => {
  it('has no callers key even when asked for them (one process makes every call)', async () => {
    const dir = tempDir('autotag-callerstatus-');
    const store = createSqliteStore({ file: path.join(dir, 'autotag.db'), log: silentLogger() });
    try {
      await store.migrate();
      await ask(store, NOW - 1000, { account: 'brand-a' });
      const status = await store.status(NOW, { callerAccounts: ['brand-a'] });
      expect(status.accounts.map((x) => x.account)).toEqual(['brand-a']);
      expect(status).not.toHaveProperty('callers');
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
