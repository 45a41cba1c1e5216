import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { silentLogger } from '../../src/log';
import { createPostgresStore } from '../../src/store/postgres';
import { advisoryLockKey } from '../../src/store/postgres/advisory-lock';
import type { CallerRoles, InstanceSession, Store } from '../../src/store/store';
import { lockHolderPid } from './pg-waits';

/*
 * The caller role of a provider account (PROVIDER_CALLERS=one): one instance holds it at a
 * time; it goes with the instance's session — given up at a stop, lost with the session (and
 * taken by another instance within about a retry, CALLER_RETRY_MS), contended for again under
 * the new session.
 */

const url = process.env.TEST_DATABASE_URL;
if (!url) console.warn('PostgreSQL caller role tests skipped: TEST_DATABASE_URL is not set');
const describePg = url ? describe : describe.skip;
const titled = (title: string) => (url ? title : `${title} (skipped: TEST_DATABASE_URL is not set)`);
const ACCOUNT = 'brand-a';

describePg(titled('PostgreSQL: one caller per provider account'), () => {
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  let schema: string;
  let a: Store;
  let b: Store;

  const open = () => createPostgresStore({ url: url!, schema, log: silentLogger(), poolSize: 2, connectTimeoutMs: 3000, statementTimeoutMs: 10_000 });
  const rolesOf = (s: InstanceSession): CallerRoles => {
    if (!s.callers) throw new Error('a PostgreSQL session has caller roles');
    return s.callers;
  };
  /** Resolves when `roles` next takes (true) or loses (false) the account's role. */
  const next = (roles: CallerRoles, held: boolean, timeoutMs = 3000) =>
    new Promise<number>((resolve, reject) => {
      const since = Date.now();
      const timer = setTimeout(() => reject(new Error(`the role was not ${held ? 'taken' : 'lost'} within ${timeoutMs} ms`)), timeoutMs);
      const off = roles.onChange((account, now) => {
        if (account !== ACCOUNT || now !== held) return;
        off();
        clearTimeout(timer);
        resolve(Date.now() - since);
      });
    });
  /** Both sessions contend; resolves with the holder's roles first. */
  async function contend(): Promise<[holder: CallerRoles, waiting: CallerRoles, holderSession: InstanceSession]> {
    const [sa, sb] = await Promise.all([a.startSession(), b.startSession()]);
    const [ra, rb] = [rolesOf(sa), rolesOf(sb)];
    const taken = Promise.race([next(ra, true), next(rb, true)]);
    ra.want(ACCOUNT);
    rb.want(ACCOUNT);
    await taken;
    // The other has tried at least once meanwhile, and keeps trying.
    await new Promise((r) => setTimeout(r, 700));
    expect(ra.holds(ACCOUNT) !== rb.holds(ACCOUNT)).toBe(true);
    return ra.holds(ACCOUNT) ? [ra, rb, sa] : [rb, ra, sb];
  }

  beforeEach(async () => {
    schema = `autotag_caller${process.pid}_${randomBytes(3).toString('hex')}`;
    a = open();
    b = open();
    await a.migrate();
  });
  afterEach(async () => {
    await Promise.all([a.close(), b.close()]);
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });
  afterAll(async () => {
    await admin.end();
  });

  it('one instance holds the role; a stop gives it up at once and the other takes it within a retry', async () => {
    const [holder, waiting] = await contend();
    const taken = next(waiting, true);
    await holder.releaseAll();
    expect(holder.holds(ACCOUNT)).toBe(false);
    expect(await taken).toBeLessThan(1500);
    // Asked again (a delivery started anew on the same store), it contends again — and waits its turn.
    holder.want(ACCOUNT);
    await new Promise((r) => setTimeout(r, 700));
    expect(holder.holds(ACCOUNT)).toBe(false);
    expect(waiting.holds(ACCOUNT)).toBe(true);
  });

  it('a lost session loses the role with it; the other instance takes it once PostgreSQL ends that session', async () => {
    const [holder, waiting, holderSession] = await contend();
    const pid = await lockHolderPid(admin, advisoryLockKey(schema, `caller:${ACCOUNT}`));
    expect(pid).toBeDefined();
    const lost = next(holder, false);
    const taken = next(waiting, true);
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    await lost;
    expect(holderSession.signal.aborted).toBe(true);
    expect(await taken).toBeLessThan(1500);
    // Under its new session the old holder contends again, and waits: the role is taken.
    await new Promise<void>((resolve) => {
      if (holderSession.live) resolve();
      else holderSession.onChange((live) => live && resolve());
    });
    await new Promise((r) => setTimeout(r, 700));
    expect(holder.holds(ACCOUNT)).toBe(false);
    expect(waiting.holds(ACCOUNT)).toBe(true);
  });

  it('a wall clock set back while a lost session waits to contend again does not lengthen that wait', async () => {
    const session = await a.startSession();
    const roles = rolesOf(session);
    const taken = next(roles, true);
    roles.want(ACCOUNT);
    await taken;
    const pid = await lockHolderPid(admin, advisoryLockKey(schema, `caller:${ACCOUNT}`));
    expect(pid).toBeDefined();
    const lost = next(roles, false);
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    await lost;
    // NTP steps the clock back an hour (a VM resumed, say) while the role waits its 1.5 s.
    const wallNow = Date.now.bind(Date);
    const setBack = jest.spyOn(Date, 'now').mockImplementation(() => wallNow() - 3_600_000);
    try {
      // Alone on the store: it takes the role back under its new session, 1.5 s after the loss.
      expect(await next(roles, true, 5000)).toBeLessThan(5000);
    } finally {
      setBack.mockRestore();
    }
  });
});
