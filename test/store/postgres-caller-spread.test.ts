import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { silentLogger } from '../../src/log';
import { createPostgresStore } from '../../src/store/postgres';
import { advisoryLockKey } from '../../src/store/postgres/advisory-lock';
import { CALLER_RETRY_MS } from '../../src/store/postgres/caller-roles';
import type { CallerRoles, Store } from '../../src/store/store';
import { lockHolderPid } from './pg-waits';

/*
 * README "One caller per provider account": the caller roles spread over the live instances. An
 * instance contends for a free role only while it holds fewer than its share, ceil(accounts it
 * wants / live instances); one above its share for a while gives a role up to one below it; a
 * free role nobody below its share takes is taken anyway, so every account has a caller. Each
 * store here is one instance (one session, one row in `instances`).
 */

const url = process.env.TEST_DATABASE_URL;
if (!url) console.warn('PostgreSQL caller spread tests skipped: TEST_DATABASE_URL is not set');
const describePg = url ? describe : describe.skip;
const titled = (title: string) => (url ? title : `${title} (skipped: TEST_DATABASE_URL is not set)`);
const ACCOUNTS = ['brand-a', 'brand-b', 'brand-c'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Instance {
  store: Store;
  roles: CallerRoles;
  /** Every take (true) and loss (false), with when (Date.now()). */
  changes: { account: string; held: boolean; at: number }[];
}

describePg(titled('PostgreSQL: the caller roles spread over the instances'), () => {
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  let schema: string;
  let opened: Store[];

  const open = () => {
    const store = createPostgresStore({ url: url!, schema, log: silentLogger(), poolSize: 2, connectTimeoutMs: 3000, statementTimeoutMs: 10_000 });
    opened.push(store);
    return store;
  };
  /** A new instance contending for `accounts`. */
  async function instance(accounts: readonly string[]): Promise<Instance> {
    const store = open();
    const session = await store.startSession();
    if (!session.callers) throw new Error('a PostgreSQL session has caller roles');
    const roles = session.callers;
    const changes: Instance['changes'] = [];
    roles.onChange((account, held) => changes.push({ account, held, at: Date.now() }));
    for (const a of accounts) roles.want(a);
    return { store, roles, changes };
  }
  const heldBy = (i: Instance, accounts = ACCOUNTS) => accounts.filter((a) => i.roles.holds(a));
  /** Polls (no event tells that a whole assignment is reached); resolves with how long it took. */
  async function until(what: string, check: () => boolean, timeoutMs: number): Promise<number> {
    const since = Date.now();
    while (!check()) {
      if (Date.now() - since > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${what}`);
      await sleep(50);
    }
    return Date.now() - since;
  }
  /** Every account of `accounts` held by exactly one of the instances. */
  const oneCallerEach = (all: Instance[], accounts = ACCOUNTS) => accounts.every((a) => all.filter((i) => i.roles.holds(a)).length === 1);
  const eachHoldsOne = (all: Instance[]) => oneCallerEach(all) && all.every((i) => heldBy(i).length === 1);
  /** No take or loss anywhere for `ms`: the assignment stays put. */
  async function staysPut(all: Instance[], ms: number): Promise<void> {
    const before = all.map((i) => i.changes.length);
    const assignment = all.map((i) => heldBy(i).join());
    await sleep(ms);
    expect(all.map((i) => i.changes.slice(before[all.indexOf(i)]))).toEqual(all.map(() => []));
    expect(all.map((i) => heldBy(i).join())).toEqual(assignment);
  }

  beforeEach(async () => {
    schema = `autotag_spread${process.pid}_${randomBytes(3).toString('hex')}`;
    opened = [];
    await open().migrate();
  });
  afterEach(async () => {
    await Promise.all(opened.map((s) => s.close()));
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });
  afterAll(async () => {
    await admin.end();
  });

  it('three instances started together, three accounts: each holds one, and it stays so', async () => {
    const all = await Promise.all([instance(ACCOUNTS), instance(ACCOUNTS), instance(ACCOUNTS)]);
    const ms = await until('each instance holds one role', () => eachHoldsOne(all), 15_000);
    if (process.env.CALLER_PRINT) console.log(`three started together: one role each after ${ms} ms`);
    await staysPut(all, 4000);
  }, 30_000);

  it('the accounts an instance asks for together are tried together: alone, it takes all three at once, not the first alone and the rest a retry later', async () => {
    const askedAt = Date.now();
    const alone = await instance(ACCOUNTS);
    await until('the instance holds every role', () => heldBy(alone).length === 3, 5000);
    const takenAt = alone.changes.filter((c) => c.held).map((c) => c.at - askedAt);
    if (process.env.CALLER_PRINT) console.log(`alone, three accounts asked for together: taken at ${takenAt.join(', ')} ms`);
    // One statement (a few ms), well inside the retry that follows it (CALLER_RETRY_MS, 500 ms).
    expect(Math.max(...takenAt) - Math.min(...takenAt)).toBeLessThan(CALLER_RETRY_MS / 2);
  }, 15_000);

  it('one instance started alone takes all three; two more join and within about 10 s each holds one, then the assignment stays put', async () => {
    const first = await instance(ACCOUNTS);
    await until('the first instance holds every role', () => heldBy(first).length === 3, 5000);
    const joinedAt = Date.now();
    const all = [first, ...(await Promise.all([instance(ACCOUNTS), instance(ACCOUNTS)]))];
    await until('each instance holds one role', () => eachHoldsOne(all), 20_000);
    const spreadMs = Date.now() - joinedAt;
    if (process.env.CALLER_PRINT) console.log(`two joined a holder of three: one role each ${spreadMs} ms after the join`);
    // The first gives its roles up one at a time and never holds one again: no flapping.
    expect(first.changes.filter((c) => c.held && c.at >= joinedAt)).toEqual([]);
    expect(all.flatMap((i) => i.changes).filter((c) => c.at >= joinedAt && c.held).length).toBe(2);
    await staysPut(all, 6000);
  }, 45_000);

  it('a holder killed (its backend terminated): its role is taken by another instance within a few seconds', async () => {
    const all = await Promise.all([instance(ACCOUNTS), instance(ACCOUNTS), instance(ACCOUNTS)]);
    await until('each instance holds one role', () => eachHoldsOne(all), 15_000);
    const victim = all[0]!;
    const [account] = heldBy(victim);
    const pid = await lockHolderPid(admin, advisoryLockKey(schema, `caller:${account}`));
    expect(pid).toBeDefined();
    const killedAt = Date.now();
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    await until('the victim finds its session lost', () => !victim.roles.holds(account!), 5000);
    // The process is gone: no new session of it comes back.
    await victim.store.close();
    const others = all.slice(1);
    const takenMs = await until(`${account} taken by another instance`, () => oneCallerEach(others), 8000);
    if (process.env.CALLER_PRINT) console.log(`holder killed: its role taken ${Date.now() - killedAt} ms after the kill`);
    expect(takenMs).toBeLessThan(8000);
    // Two live instances, three accounts: one holds two, the other one.
    expect(others.map((i) => heldBy(i).length).sort()).toEqual([1, 2]);
  }, 40_000);

  it('accounts wanted by one instance only are taken by it even above its share, and the shared ones still spread', async () => {
    // A: p, q and two of its own; B: p and q. Share of A ceil(4/2) = 2, but nobody else takes s1, s2.
    const mine = ['s1', 's2'];
    const shared = ['p', 'q'];
    const a = await instance([...shared, ...mine]);
    await until('A alone holds all four', () => heldBy(a, [...shared, ...mine]).length === 4, 5000);
    const b = await instance(shared);
    const settled = () =>
      oneCallerEach([a, b], [...shared, ...mine]) && mine.every((s) => a.roles.holds(s)) && heldBy(b, shared).length >= 1;
    const ms = await until('A holds s1 and s2, B holds p or q, every account has one caller', settled, 30_000);
    if (process.env.CALLER_PRINT) console.log(`one-instance accounts: settled after ${ms} ms`);
    expect(heldBy(a, [...shared, ...mine]).length).toBeGreaterThan(2);
    // No more handing over once settled (allow what was under way to end).
    await until('no take or loss for 8 s', () => [a, b].every((i) => (i.changes.at(-1)?.at ?? 0) < Date.now() - 8000), 30_000);
    expect(settled()).toBe(true);
  }, 80_000);
});
