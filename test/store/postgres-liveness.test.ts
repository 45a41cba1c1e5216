import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { silentLogger } from '../../src/log';
import { createPostgresStore } from '../../src/store/postgres';
import { advisoryLockKey } from '../../src/store/postgres/advisory-lock';
import { SessionLostError, type InstanceSession, type Store } from '../../src/store/store';
import { ask, batch, forwardTo } from './builders';
import { listening, lockHolderPid, wakeRecorder } from './pg-waits';

/*
 * The lease rules with several instances (CONTRACT.md "Leases"):
 * - a lease whose holder is alive (its session holds the lock on its id) ends when it
 *   runs out (LEASE_MS, renewed while the holder works) — never earlier;
 * - a lease whose holder is gone comes back at its call deadline (claim time + call
 *   timeout; its holder aborted its calls a little before) — not before, and not as late as LEASE_MS;
 * - a lease without a holder (claimed with no session) or without a call deadline ends
 *   when it runs out.
 */

const url = process.env.TEST_DATABASE_URL;
if (!url) console.warn('PostgreSQL liveness tests skipped: TEST_DATABASE_URL is not set');
const describePg = url ? describe : describe.skip;
const titled = (title: string) => (url ? title : `${title} (skipped: TEST_DATABASE_URL is not set)`);

const LEASE_MS = 30_000;
const CALL_MS = 5000;
const T0 = 1000;
/** When a gone holder's lease of a claim at T0 comes back. */
/** At most the call timeout after the call began (CONTRACT.md "Leases"): the claim's time + CALL_MS. */
const BACK_AT = T0 + CALL_MS;

describePg(titled('PostgreSQL: leases of live and gone instances'), () => {
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  let schema: string;
  let a: Store;
  let b: Store;

  const open = () => createPostgresStore({ url: url!, schema, log: silentLogger(), poolSize: 4, connectTimeoutMs: 3000, statementTimeoutMs: 10_000 });
  /** `callMs` null: a claim that names no call deadline. */
  const claimOps = (s: Store, owner: string, now: number, callMs: number | null = CALL_MS) =>
    s.claimOperations({ scope: { account: 'mantago' }, limit: 10, owner, now, leaseMs: LEASE_MS, ...(callMs === null ? {} : { callMs }) });
  const claimFwds = (s: Store, owner: string, now: number) => s.claimForwards({ limit: 10, owner, now, leaseMs: LEASE_MS, callMs: CALL_MS });
  const holders = async () =>
    (await admin.query<{ lease_holder: string | null }>(`SELECT lease_holder FROM "${schema}".operations ORDER BY id`)).rows.map((r) => r.lease_holder);
  const listed = async () => (await admin.query<{ id: string }>(`SELECT id FROM "${schema}".instances ORDER BY id`)).rows.map((r) => r.id);

  /** Ends the database session that holds `holder`'s lock, as a crash or a network cut would. */
  async function killSession(holder: string): Promise<void> {
    const pid = await lockHolderPid(admin, advisoryLockKey(schema, `instance:${holder}`));
    expect(pid).toBeDefined();
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
  }

  const nextChange = (session: InstanceSession) =>
    new Promise<boolean>((resolve) => {
      const off = session.onChange((live) => {
        off();
        resolve(live);
      });
    });

  beforeEach(async () => {
    schema = `autotag_live${process.pid}_${randomBytes(3).toString('hex')}`;
    a = open();
    b = open();
    await a.migrate();
    await b.migrate();
  });
  afterEach(async () => {
    await Promise.all([a.close(), b.close()]);
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });
  afterAll(async () => {
    await admin.end();
  });

  it("leaves a live holder's lease alone past its call deadline, until the lease runs out", async () => {
    const [sa] = await Promise.all([a.startSession(), b.startSession()]);
    expect(sa.live).toBe(true);
    expect(await listed()).toHaveLength(2);
    await ask(a, T0);
    const [mine] = await claimOps(a, 'A', T0);
    expect(mine).toBeDefined();
    const [holder] = await holders();
    expect(await listed()).toContain(holder);

    expect(await claimOps(b, 'B', BACK_AT)).toEqual([]);
    expect(await claimOps(b, 'B', T0 + LEASE_MS - 1)).toEqual([]);
    expect(await b.nextDueAt('operations', 'mantago')).toBe(T0 + LEASE_MS);
    const [theirs] = await claimOps(b, 'B', T0 + LEASE_MS);
    expect(theirs?.id).toBe(mine!.id);
  });

  it("gives a gone holder's leases back at the call deadline, not before", async () => {
    const [sa, sb] = await Promise.all([a.startSession(), b.startSession()]);
    await ask(a, T0);
    await a.accept(batch(T0, [], [forwardTo('http://a.test/hook')]));
    const [op] = await claimOps(a, 'A', T0);
    const [fwd] = await claimFwds(a, 'A', T0);
    expect(op && fwd).toBeDefined();
    const [holder] = await holders();

    const heard = wakeRecorder(b);
    await listening(admin, schema);
    const woken = heard.next(2);
    const lost = nextChange(sa);
    await killSession(holder!);
    // A notices; A's lost id is unlisted (by A taking a new session, or by B taking A's old lock),
    // and B's workers are woken for A's leases.
    expect(await lost).toBe(false);
    expect(sa.live).toBe(false);
    expect(sa.signal.aborted).toBe(true);
    expect(sa.signal.reason).toBeInstanceOf(SessionLostError);
    await woken;
    expect([...heard.kinds].sort()).toEqual(['forwards', 'operations']);
    expect(await listed()).not.toContain(holder);
    expect(sb.live).toBe(true);

    expect(await b.nextDueAt('operations', 'mantago')).toBe(BACK_AT);
    expect(await b.nextDueAt('forwards', 'http://a.test/hook')).toBe(BACK_AT);
    expect(await claimOps(b, 'B', BACK_AT - 1)).toEqual([]);
    expect(await claimFwds(b, 'B', BACK_AT - 1)).toEqual([]);
    const [opB] = await claimOps(b, 'B', BACK_AT);
    const [fwdB] = await claimFwds(b, 'B', BACK_AT);
    expect(opB?.id).toBe(op!.id);
    expect(fwdB?.id).toBe(fwd!.id);

    // What A writes for them now changes nothing: B holds them.
    expect(await a.completeOperation(op!, 'A', BACK_AT + 1, { status: 200 })).toBe(false);
    await a.completeForward(fwd!, 'A', BACK_AT + 1, { status: 200 });
    expect((await b.status(BACK_AT + 2)).operations).toMatchObject({ leased: 1, pending: 0 });
    expect((await b.status(BACK_AT + 2)).forwards).toMatchObject({ leased: 1, pending: 0 });
  });

  it('finds an instance that died by taking its lock, and wakes the workers for its leases', async () => {
    await b.startSession();
    await ask(b, T0);
    // A process that dies below: it held the lock on its id, was listed, and leased the row.
    const dead = new pg.Client({ connectionString: url });
    await dead.connect();
    await dead.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [advisoryLockKey(schema, 'instance:dead-one')]);
    await dead.query(`INSERT INTO "${schema}".instances (id, started_at) VALUES ('dead-one', 0)`);
    await dead.query(`UPDATE "${schema}".operations SET lease_owner = 'D', leased_until = $1, lease_holder = 'dead-one', call_deadline = $2`, [
      T0 + LEASE_MS,
      T0 + CALL_MS,
    ]);
    // While its session holds the lock it is alive, whatever B sweeps meanwhile.
    expect(await claimOps(b, 'B', BACK_AT)).toEqual([]);
    expect(await b.nextDueAt('operations', 'mantago')).toBe(T0 + LEASE_MS);

    const heard = wakeRecorder(b);
    const woken = heard.next(2);
    await dead.end();
    await woken;
    expect(await listed()).not.toContain('dead-one');
    expect(await b.nextDueAt('operations', 'mantago')).toBe(BACK_AT);
    expect(await claimOps(b, 'B', BACK_AT - 1)).toEqual([]);
    expect(await claimOps(b, 'B', BACK_AT)).toHaveLength(1);
  });

  it('takes a new session under a new id after losing one, and names it in later claims', async () => {
    const sa = await a.startSession();
    await ask(a, T0, { tagId: 'first' });
    await claimOps(a, 'A', T0);
    const [before] = await holders();

    const lost = nextChange(sa);
    await killSession(before!);
    expect(await lost).toBe(false);
    expect(await nextChange(sa)).toBe(true);
    expect(sa.signal.aborted).toBe(false);

    await ask(a, T0, { tagId: 'second' });
    await claimOps(a, 'A2', T0);
    const [, after] = await holders();
    expect(after).toBeTruthy();
    expect(after).not.toBe(before);
    // The lost id is unlisted by A itself: its leases come back without anyone having to find out.
    expect(await listed()).toEqual([after]);
    expect(await claimOps(a, 'A3', BACK_AT - 1)).toEqual([]);
    expect((await claimOps(a, 'A3', BACK_AT)).map((o) => o.tagId)).toEqual(['first']);
  });

  it('ends leases taken without a session, or without a call deadline, when they run out', async () => {
    const sb = await b.startSession();
    await ask(a, T0, { tagId: 'no-session' });
    await claimOps(a, 'A', T0); // A holds no session: no holder
    await b.startSession();
    await ask(b, T0, { tagId: 'no-deadline' });
    expect(await claimOps(b, 'B', T0, null)).toHaveLength(1);
    const [, ownHolder] = await holders();
    expect(await holders()).toEqual([null, ownHolder]);
    // B's own session is lost and taken again: its old id is gone, but the lease named no deadline.
    const lost = nextChange(sb);
    await killSession(ownHolder!);
    await lost;
    await nextChange(sb);
    expect(await claimOps(b, 'C', BACK_AT)).toEqual([]);
    expect(await b.nextDueAt('operations', 'mantago')).toBe(T0 + LEASE_MS);
    expect((await claimOps(b, 'C', T0 + LEASE_MS)).map((o) => o.tagId).sort()).toEqual(['no-deadline', 'no-session']);
  });

  it('unlists an instance that closes', async () => {
    await Promise.all([a.startSession(), b.startSession()]);
    expect(await listed()).toHaveLength(2);
    await a.close();
    expect(await listed()).toHaveLength(1);
    a = open(); // afterEach closes it
  });
});
