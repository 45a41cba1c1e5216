import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadConfig } from '../../src/config';
import { silentLogger } from '../../src/log';
import { openStore } from '../../src/store/open-store';
import { createPostgresStore, type PostgresStoreOptions } from '../../src/store/postgres';
import { INSERT_BODIES, INSERT_FORWARDS } from '../../src/store/postgres/accept';
import { advisoryLockKey } from '../../src/store/postgres/advisory-lock';
import { DELETE_BODIES_IF_UNUSED, DELETE_LEASED_FORWARDS, LOCK_BODIES } from '../../src/store/postgres/forwards';
import { postgresMigrations } from '../../src/store/migrations/postgres';
import { StoreUnavailableError, type Store } from '../../src/store/store';
import { accepted, ask, askAt, batch, deferred, forwardTo, tagOp } from './builders';
import { listening, until, wakeRecorder } from './pg-waits';
import { describeStoreContract } from './contract';
import { claimOn, pausedClaim } from './pg-claims';
import { startTcpProxy } from './tcp-proxy';

const url = process.env.TEST_DATABASE_URL;
if (!url) console.warn('PostgreSQL store tests skipped: TEST_DATABASE_URL is not set');
const describePg = url ? describe : describe.skip;
const titled = (title: string) => (url ? title : `${title} (skipped: TEST_DATABASE_URL is not set)`);

const admin = url ? new pg.Pool({ connectionString: url, max: 2 }) : undefined;
afterAll(async () => {
  await admin?.end();
});

let schemas = 0;
/** A schema of its own per test, so tests never see each other's rows (or other runs'). */
function newSchema(): string {
  return `autotag_t${process.pid}_${++schemas}_${randomBytes(3).toString('hex')}`;
}

function pgStore(schema: string, over: Partial<PostgresStoreOptions> = {}): Store {
  return createPostgresStore({
    url: url!,
    schema,
    log: silentLogger(),
    poolSize: 4,
    connectTimeoutMs: 3000,
    statementTimeoutMs: 10_000,
    ...over,
  });
}

async function dropSchema(schema: string): Promise<void> {
  await admin!.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

describePg(titled('PostgreSQL store'), () => {
  describeStoreContract('PostgreSQL', async () => {
    const schema = newSchema();
    const open = async () => {
      const s = pgStore(schema);
      await s.migrate();
      return s;
    };
    let store = await open();
    return {
      store,
      async reopen() {
        await store.close();
        return (store = await open());
      },
      async cleanup() {
        await store.close();
        await dropSchema(schema);
      },
    };
  });

  describe('two instances on one database', () => {
    let schema: string;
    let a: Store;
    let b: Store;
    beforeEach(async () => {
      schema = newSchema();
      a = pgStore(schema);
      b = pgStore(schema);
      await a.migrate();
      await b.migrate();
    });
    afterEach(async () => {
      await Promise.all([a.close(), b.close()]);
      await dropSchema(schema);
    });

    it('never claim the same row, however they race', async () => {
      const events = Array.from({ length: 200 }, (_, i) => accepted(`e${i}`, [tagOp({ userId: `U${i}` })], { event: { userId: `U${i}` } }));
      expect(await a.accept(batch(1000, events))).toMatchObject({ operationsQueued: 200 });
      const drain = async (s: Store, owner: string) => {
        const ids: number[] = [];
        for (;;) {
          const got = await s.claimOperations({ scope: { account: 'mantago' }, limit: 7, owner, now: 2000, leaseMs: 60_000 });
          if (got.length === 0) return ids;
          ids.push(...got.map((g) => g.id));
        }
      };
      const claimed = await Promise.all([drain(a, 'A1'), drain(a, 'A2'), drain(b, 'B1'), drain(b, 'B2')]);
      const all = claimed.flat();
      expect(all).toHaveLength(200);
      expect(new Set(all).size).toBe(200);
      expect(claimed.filter((ids) => ids.length > 0).length).toBeGreaterThan(1);
    });

    it('end each lifetime once, however they race, and both are woken by its time', async () => {
      const users = Array.from({ length: 60 }, (_, i) => `U${i}`);
      const lifetime = { ms: 1000, text: '1s', rule: 'trial' };
      await a.accept(batch(1000, users.map((u) => accepted(`e-${u}`, [tagOp({ userId: u, lifetime })], { event: { userId: u, timestamp: 1000 } }))));
      expect(await b.nextDueAt('operations', 'mantago')).toBe(1000);
      const drain = async (s: Store, owner: string) => {
        const claimed: string[] = [];
        for (;;) {
          const got = await s.claimOperations({ scope: { account: 'mantago' }, limit: 7, owner, now: 2000, leaseMs: 60_000 });
          if (got.length === 0) return claimed;
          claimed.push(...got.map((g) => `${g.userId}/${g.action}/${g.version}`));
        }
      };
      // At 2000 every add has also ended its lifetime: the claims turn them into removals as they go.
      const claimed = (await Promise.all([drain(a, 'A1'), drain(a, 'A2'), drain(b, 'B1'), drain(b, 'B2')])).flat();
      expect(new Set(claimed).size).toBe(claimed.length);
      const expired = await admin!.query(`SELECT user_id, version FROM "${schema}".history_calls WHERE cause = 'lifetime_ended' ORDER BY user_id`);
      expect(expired.rows).toEqual(users.map((u) => ({ user_id: u, version: 2 })).sort((x, y) => (x.user_id < y.user_id ? -1 : 1)));
      const rows = await admin!.query(`SELECT count(*)::int AS n FROM "${schema}".operations WHERE action = 'remove' AND version = 2 AND expires_at IS NULL`);
      expect(rows.rows).toEqual([{ n: 60 }]);
    });

    it('wake each other with NOTIFY', async () => {
      const heard = wakeRecorder(b);
      await listening(admin!, schema);
      const next = heard.next(2);
      await a.accept(batch(1000, [accepted('e1')], [forwardTo('http://a.test/hook')]));
      await next;
      expect([...heard.kinds].sort()).toEqual(['forwards', 'operations']);

      // A dead letter queued again on one instance wakes the other too.
      const [op] = await a.claimOperations({ scope: { account: 'mantago' }, limit: 1, owner: 'A', now: 1000, leaseMs: 1000 });
      await a.deadLetterOperation(op!, 'A', 1000, { reason: 'MANTAGO_TOKEN is not set' });
      const again = heard.next(1);
      expect(await a.retryDeadLetters('all', 2000)).toBe(1);
      await again;
      expect(heard.kinds[2]).toBe('operations');
    });

    it('accept the same webhooks at the same time: each event counts once, each key gets one row', async () => {
      // The same 60 webhooks reach both instances (a platform redelivering while the first
      // answer was slow), each asking for one of 7 tags of one of 5 users.
      const hooks = Array.from({ length: 60 }, (_, i) =>
        batch(1000 + i, [accepted(`e${i}`, [tagOp({ tagId: `t${i % 7}`, userId: `U${i % 5}` })], { event: { userId: `U${i % 5}` } })]),
      );
      const [fromA, fromB] = await Promise.all([Promise.all(hooks.map((h) => a.accept(h))), Promise.all([...hooks].reverse().map((h) => b.accept(h)))]);
      const all = [...fromA, ...fromB];
      expect(all.reduce((n, r) => n + r.accepted, 0)).toBe(60);
      expect(all.reduce((n, r) => n + r.duplicates, 0)).toBe(60);
      const keys = new Set(hooks.map((_, i) => `t${i % 7}/U${i % 5}`));
      expect(all.reduce((n, r) => n + r.operationsQueued, 0)).toBe(keys.size);
      const claimed = await a.claimOperations({ scope: { account: 'mantago' }, limit: 100, owner: 'w', now: 2000, leaseMs: 1000 });
      expect(claimed.map((c) => `${c.tagId}/${c.userId}`).sort()).toEqual([...keys].sort());
      expect(claimed.every((c) => c.version === 1)).toBe(true);
      expect(await a.recentEvents(100)).toHaveLength(60);
    });

    /** Replaces instance A by one that announces with `announceWindowMs`; B hears A's first operation (tag x). */
    async function heardFirst(announceWindowMs: number) {
      await a.close();
      a = pgStore(schema, { announceWindowMs });
      await a.migrate();
      const heard = wakeRecorder(b);
      await listening(admin!, schema);
      const first = heard.next(1);
      await ask(a, 1000, { tagId: 'x' });
      await first;
      expect(heard.kinds).toEqual(['operations']);
      return heard;
    }

    it('announce queued operations only: a commit whose requests all coalesced sends no NOTIFY', async () => {
      // Every commit may announce itself here (no pacing window), so no NOTIFY left out is the pacing's doing.
      const heard = await heardFirst(0);

      expect(await ask(a, 2000, { tagId: 'x' })).toBe(0);
      // NOTIFYs of one session arrive in commit order: had the coalesced accept sent one,
      // it would be heard before the forward's.
      const next = heard.next(1);
      await a.accept(batch(3000, [], [forwardTo('http://a.test/hook')]));
      await next;
      expect(heard.kinds).toEqual(['operations', 'forwards']);

      // One commit asking for x both ways goes step by step; it announces too.
      const last = heard.next(1);
      expect(await Promise.all([ask(a, 4000, { tagId: 'x', action: 'remove' }), ask(a, 4001, { tagId: 'x' })])).toEqual([1, 1]);
      await last;
      expect(heard.kinds).toEqual(['operations', 'forwards', 'operations']);
    });

    it('pace their NOTIFYs: one per window and kind, the work of a window announced once when it ends, and at close', async () => {
      const heard = await heardFirst(2000);

      // Two more commits within the window: no NOTIFY with them…
      const started = Date.now();
      expect(await ask(a, 2000, { tagId: 'y' })).toBe(1);
      expect(await ask(a, 3000, { tagId: 'z' })).toBe(1);
      // …but forwards have a window of their own.
      const fwd = heard.next(1);
      await a.accept(batch(3500, [], [forwardTo('http://a.test/hook')]));
      await fwd;
      expect(heard.kinds).toEqual(['operations', 'forwards']);
      // One NOTIFY for both, when the window ends (2 s after the first).
      const second = heard.next(1);
      await second;
      expect(heard.kinds).toEqual(['operations', 'forwards', 'operations']);
      expect(Date.now() - started).toBeGreaterThan(1000);
      const claimed = await b.claimOperations({ scope: { account: 'mantago' }, limit: 10, owner: 'B', now: 5000, leaseMs: 1000 });
      expect(claimed.map((c) => c.tagId).sort()).toEqual(['x', 'y', 'z']);

      // Work committed just before the instance stops is announced as it stops, not a window later.
      expect(await ask(a, 4000, { tagId: 'w' })).toBe(1);
      const last = heard.next(1);
      const closing = Date.now();
      await a.close();
      await last;
      expect(Date.now() - closing).toBeLessThan(1500);
      expect(heard.kinds).toEqual(['operations', 'forwards', 'operations', 'operations']);
      a = pgStore(schema);
    });

    it('share a Retry-After pause: the other instances hear the account and how long, the sender does not hear itself', async () => {
      const heardByB: [string, number][] = [];
      const heardByA: [string, number][] = [];
      const got = deferred();
      b.onPause((news) => {
        if (news.kind !== 'shared') return;
        heardByB.push([news.account, news.ms]);
        got.resolve();
      });
      a.onPause((news) => {
        if (news.kind === 'shared') heardByA.push([news.account, news.ms]);
      });
      // Both stores listen (each opened its LISTEN connection when its onPause subscribed).
      await listening(admin!, schema, 2);
      await a.sharePause('brand-a', 2500.2, 1000);
      await got.promise;
      expect(heardByB).toEqual([['brand-a', 1501]]);
      // A's own notice came back to it too (it LISTENs as well), and was left out.
      await b.sharePause('mantago', 1800, 1000);
      await until('A hears B', async () => heardByA.length > 0);
      expect(heardByA).toEqual([['mantago', 800]]);
      expect(heardByB).toEqual([['brand-a', 1501]]);
      // Both were kept, for the instances that start later.
      expect(await b.storedPauses(1000)).toEqual(new Map([['brand-a', 2501], ['mantago', 1800]]));
    });

    it("remove a webhook's stored body once its last forward is delivered, whether its forwards end together or on two instances at once", async () => {
      const bodiesLeft = async () => (await admin!.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".forward_bodies`)).rows[0]?.n;
      const A = 'http://a.test/hook';
      const B = 'http://b.test/hook';
      // Settled in one batch by one instance.
      await a.accept(batch(1000, [], [forwardTo(A, 'U1', Buffer.from('one')), forwardTo(B, 'U1', Buffer.from('one'))]));
      const both = await a.claimForwards({ owner: 'w', now: 1000, limit: 10, leaseMs: 10_000 });
      expect(both).toHaveLength(2);
      await Promise.all(both.map((f) => a.completeForward(f, 'w', 1000, { status: 200 })));
      expect(await bodiesLeft()).toBe(0);
      // One forward each, settled by two instances at the same time (each waits for the other's lock on the body).
      for (let i = 0; i < 5; i++) {
        await a.accept(batch(2000 + i, [], [forwardTo(A, `V${i}`, Buffer.from(`two-${i}`)), forwardTo(B, `V${i}`, Buffer.from(`two-${i}`))]));
        const [fa] = await a.claimForwards({ owner: 'A', now: 2000 + i, limit: 1, leaseMs: 10_000, destinations: [A] });
        const [fb] = await b.claimForwards({ owner: 'B', now: 2000 + i, limit: 1, leaseMs: 10_000, destinations: [B] });
        await Promise.all([a.completeForward(fa!, 'A', 2000 + i, { status: 200 }), b.completeForward(fb!, 'B', 2000 + i, { status: 200 })]);
        expect(await bodiesLeft()).toBe(0);
      }
    });

    it('exclude each other with withLock', async () => {
      const log: string[] = [];
      const gate = deferred();
      const aIn = deferred();
      const first = a.withLock('mantago-token', async () => {
        log.push('A in');
        aIn.resolve();
        await gate.promise;
        log.push('A out');
      });
      await aIn.promise;
      const second = b.withLock('mantago-token', async () => {
        log.push('B in');
      });
      await until('B waits for the advisory lock', async () => {
        const { rows } = await admin!.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_locks, (SELECT hashtextextended($1, 0) AS h) k
           WHERE locktype = 'advisory' AND NOT granted
             AND classid::bigint = (k.h >> 32) & 4294967295 AND objid::bigint = k.h & 4294967295`,
          [advisoryLockKey(schema, 'mantago-token')],
        );
        return (rows[0]?.n ?? 0) > 0;
      });
      expect(log).toEqual(['A in']);
      gate.resolve();
      await Promise.all([first, second]);
      expect(log).toEqual(['A in', 'A out', 'B in']);
    });
  });

  it('sends a forward queued while the head of its key was completed by another transaction (the head mark the race left out is found)', async () => {
    const schema = newSchema();
    const A = 'http://a.test/hook';
    const lookMs = 300;
    const store = pgStore(schema, { forwardHeadsLookMs: lookMs });
    const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
    try {
      await store.migrate();
      await client.connect();
      await store.accept(batch(1000, [], [forwardTo(A, 'U1', Buffer.from('w1'))]));
      const [w1] = await store.claimForwards({ owner: 'w', now: 1000, limit: 10, leaseMs: 60_000, destinations: [A] });
      expect(w1?.body.toString()).toBe('w1');

      // Another instance queues w2 of the same key with the service's own statements, in a
      // transaction still open while w1 is completed: it saw w1 waiting (so w2 is not the
      // head), and w1's completion did not see w2 (not committed) to mark it.
      await client.query('BEGIN');
      const [{ id: bodyId }] = (await client.query<{ id: string }>(`SELECT nextval(pg_get_serial_sequence('forward_bodies', 'id')) AS id`)).rows as [{ id: string }];
      await client.query(INSERT_BODIES, [[bodyId], [Buffer.from('w2')], ['{}'], [1001]]);
      await client.query(INSERT_FORWARDS, [[bodyId], [A], ['U1'], [1001]]);
      await store.completeForward(w1!, 'w', 1002, { status: 200 });
      await client.query('COMMIT');
      const { rows } = await client.query<{ head: number }>(`SELECT head FROM forwards WHERE state = 'pending'`);
      expect(rows).toEqual([{ head: 0 }]);

      // The next claims within the look interval do not see it; the first after it marks and sends it.
      expect(await store.claimForwards({ owner: 'w', now: 1003, limit: 10, leaseMs: 60_000, destinations: [A] })).toEqual([]);
      await new Promise((resolve) => setTimeout(resolve, lookMs + 50));
      const [w2] = await store.claimForwards({ owner: 'w', now: 1004, limit: 10, leaseMs: 60_000, destinations: [A] });
      expect(w2?.body.toString()).toBe('w2');
    } finally {
      await client.end().catch(() => undefined);
      await store.close();
      await dropSchema(schema);
    }
  });

  /**
   * A key (destination HOOK, U1) whose first forward w1 is a dead letter and whose second, w2, now
   * leads it; a connection of its own (`client`, in the store's schema) for another instance's
   * statements, and one that reports the requeue of w1 once it is done or waits for `client`.
   */
  async function deadHeadAndNext(schema: string, store: Store, client: pg.Client) {
    await store.migrate();
    await client.connect();
    await store.accept(batch(1000, [], [forwardTo(HOOK, 'U1', Buffer.from('w1'))]));
    await store.accept(batch(1001, [], [forwardTo(HOOK, 'U1', Buffer.from('w2'))]));
    const [w1] = await store.claimForwards({ owner: 'w', now: 1000, limit: 10, leaseMs: 60_000, destinations: [HOOK] });
    await store.deadLetterForward(w1!, 'w', 1500, { reason: 'gave up' });
    const [{ pid }] = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows as [{ pid: number }];
    const leased = async () =>
      (await admin!.query<{ body: Buffer }>(`SELECT b.body FROM "${schema}".forwards f JOIN "${schema}".forward_bodies b ON b.id = f.body_id WHERE f.leased_until IS NOT NULL ORDER BY f.id`)).rows.map((r) => r.body.toString());
    return {
      w1: w1!,
      leased,
      /** Resolves once `client` blocks another connection (`blocks`) or is blocked (`waits`), or once `done()`. */
      blocking: (what: string, done: () => boolean, o: { client: 'blocks' | 'waits' }) =>
        until(what, async () => {
          if (done()) return true;
          const { rows } = await admin!.query<{ n: number }>(
            o.client === 'blocks'
              ? 'SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))'
              : 'SELECT cardinality(pg_blocking_pids($1))::int AS n',
            [pid],
          );
          return (rows[0]?.n ?? 0) > 0;
        }),
    };
  }
  const HOOK = 'http://a.test/hook';

  it('never sends two forwards of one key at once when a dead letter of the key is queued again while a claim of the later one commits', async () => {
    const schema = newSchema();
    const store = pgStore(schema);
    const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
    try {
      const { w1, leased, blocking } = await deadHeadAndNext(schema, store, client);
      // Another instance claims w2 with the service's own statement, in a transaction still open
      // while w1 is queued again: it saw w1 dead, so w2 led the key.
      await client.query('BEGIN');
      expect(await claimOn(client, schema, { owner: 'B', now: 1600, destination: HOOK })).toEqual(['w2']);
      let requeued: number | undefined;
      const requeue = store.retryDeadLetters([`fwd-${w1.id}`], 1700).then((n) => (requeued = n));
      await blocking('the requeue waits for the claim, or is done', () => requeued !== undefined, { client: 'blocks' });
      // A claim that starts now must not see w1 lead its key with w2's lease not yet committed.
      const meanwhile = await store.claimForwards({ owner: 'A', now: 1800, limit: 10, leaseMs: 60_000, destinations: [HOOK] });
      await client.query('COMMIT');
      expect(await requeue).toBe(1);
      const after = await store.claimForwards({ owner: 'A', now: 1900, limit: 10, leaseMs: 60_000, destinations: [HOOK] });
      expect({ meanwhile: meanwhile.map((f) => f.body.toString()), after: after.map((f) => f.body.toString()), leased: await leased() }).toEqual({ meanwhile: [], after: [], leased: ['w2'] });
      expect(await store.nextDueAt('forwards', HOOK)).toBe(61_600); // w1 goes when w2's lease ends
    } finally {
      await client.end().catch(() => undefined);
      await store.close();
      await dropSchema(schema);
    }
  });

  it('never sends two forwards of one key at once when a claim that began before a dead letter of the key was queued again reaches the later one after', async () => {
    const schema = newSchema();
    const store = pgStore(schema);
    const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
    const gate = new pg.Client({ connectionString: url });
    try {
      const { w1, leased, blocking } = await deadHeadAndNext(schema, store, client);
      await gate.connect();
      // The service's claim, paused by the test once it has its snapshot (an advisory lock the
      // gate holds, taken before the claim looks at a row): w1 is dead in that snapshot.
      const gateKey = `${schema} gate`;
      await gate.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [gateKey]);
      await client.query('BEGIN');
      let claimedByB: string[] | undefined;
      const claiming = claimOn(client, schema, { owner: 'B', now: 1600, destination: HOOK }, pausedClaim(gateKey)).then((r) => (claimedByB = r));
      await blocking('the claim waits at the gate', () => claimedByB !== undefined, { client: 'waits' });
      expect(claimedByB).toBeUndefined(); // its snapshot taken, it waits before it looks at a row
      expect(await store.retryDeadLetters([`fwd-${w1.id}`], 1700)).toBe(1);
      await gate.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [gateKey]);
      await claiming;
      // B's claim is done but not committed; a claim that starts now sees w1 lead the key.
      const meanwhile = await store.claimForwards({ owner: 'A', now: 1800, limit: 10, leaseMs: 60_000, destinations: [HOOK] });
      await client.query('COMMIT');
      expect({ claimedByB, meanwhile: meanwhile.map((f) => f.body.toString()), leased: await leased() }).toEqual({ claimedByB: [], meanwhile: ['w1'], leased: ['w1'] });
    } finally {
      await Promise.all([client.end().catch(() => undefined), gate.end().catch(() => undefined)]);
      await store.close();
      await dropSchema(schema);
    }
  });

  it("removes a webhook's stored body when its dead forward is discarded while its last other forward is being completed", async () => {
    const schema = newSchema();
    const A = 'http://a.test/hook';
    const B = 'http://b.test/hook';
    const store = pgStore(schema);
    const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
    const bodies = async () => (await admin!.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".forward_bodies`)).rows[0]?.n;
    try {
      await store.migrate();
      await client.connect();
      // One webhook for two destinations: B's forward is a dead letter, A's is being sent.
      await store.accept(batch(1000, [], [forwardTo(A, 'U1', Buffer.from('one')), forwardTo(B, 'U1', Buffer.from('one'))]));
      const claimed = await store.claimForwards({ owner: 'w', now: 1000, limit: 10, leaseMs: 60_000 });
      const toA = claimed.find((f) => f.destination === A);
      const toB = claimed.find((f) => f.destination === B);
      await store.deadLetterForward(toB!, 'w', 1000, { reason: 'gave up' });

      // Another instance completes A's forward with the service's own statements, in a
      // transaction still open while B's dead letter is discarded: it saw B's forward (so it
      // kept the body), and the discard must not decide before it commits.
      await client.query('BEGIN');
      const done = (await client.query<{ body_id: string }>(DELETE_LEASED_FORWARDS, [[toA!.id], ['w']])).rows;
      const held = done.map((r) => Number(r.body_id));
      await client.query(LOCK_BODIES, [held]);
      await client.query(DELETE_BODIES_IF_UNUSED, [held]);
      const [{ pid }] = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows as [{ pid: number }];
      let committed = false;
      let discarded: { n: number; beforeCommit: boolean } | undefined;
      const discarding = store.discardDeadLetters([`fwd-${toB!.id}`]).then((n) => (discarded = { n, beforeCommit: !committed }));
      await until('the discard waits for the completion, or is done', async () => {
        if (discarded) return true;
        const { rows } = await admin!.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [pid]);
        return (rows[0]?.n ?? 0) > 0;
      });
      committed = true;
      await client.query('COMMIT');
      await discarding;
      expect(await bodies()).toBe(0);
      expect(discarded).toEqual({ n: 1, beforeCommit: false }); // it waited for the completion's lock on the body
    } finally {
      await client.end().catch(() => undefined);
      await store.close();
      await dropSchema(schema);
    }
  });

  it('upgrades a schema of the first step: rows keep their state, set as of when they were asked for, without a lifetime', async () => {
    const schema = newSchema();
    await admin!.query(`CREATE SCHEMA "${schema}"`);
    const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
    await client.connect();
    try {
      await client.query(postgresMigrations[0]!.sql);
      await client.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
      await client.query("INSERT INTO schema_migrations VALUES (1, 'first', 0)");
      await client.query(
        `INSERT INTO operations (provider, kind, tag_id, platform, channel, user_id, action, version, state, due_at, requested_at, updated_at)
         VALUES ('mantago', 'personal', 'tag-1', 'line', 'C1', 'U1', 'add', 3, 'done', 1000, 1000, 1500)`,
      );
    } finally {
      await client.end();
    }
    const store = pgStore(schema);
    try {
      await store.migrate();
      expect(await askAt(store, { now: 2000, at: 900 }, { action: 'remove' })).toBe(0);
      expect(await askAt(store, { now: 2000, at: 1100 }, { action: 'remove' })).toBe(1);
      expect(await store.claimOperations({ scope: { account: 'mantago' }, limit: 10, owner: 'w', now: 2000, leaseMs: 1000 })).toEqual([
        expect.objectContaining({ action: 'remove', version: 4 }),
      ]);
    } finally {
      await store.close();
      await dropSchema(schema);
    }
  });

  it('runs the migrations once when several instances start together', async () => {
    const schema = newSchema();
    const stores = Array.from({ length: 4 }, () => pgStore(schema));
    try {
      await Promise.all(stores.map((s) => s.migrate()));
      const { rows } = await admin!.query(`SELECT version, count(*)::int AS n FROM "${schema}".schema_migrations GROUP BY version ORDER BY version`);
      expect(rows).toEqual(postgresMigrations.map((m) => ({ version: m.version, n: 1 })));
      expect(await ask(stores[3]!, 1000)).toBe(1);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await dropSchema(schema);
    }
  });

  it('stores a webhook body once for all its destinations and deletes it with the last forward', async () => {
    const schema = newSchema();
    const store = pgStore(schema);
    try {
      await store.migrate();
      await store.accept(batch(1000, [], ['http://a.test', 'http://b.test', 'http://c.test'].map((d) => forwardTo(d))));
      const bodies = async () => (await admin!.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".forward_bodies`)).rows[0]?.n;
      expect(await bodies()).toBe(1);
      const claimed = await store.claimForwards({ owner: 'w', now: 1000, limit: 10, leaseMs: 1000 });
      expect(claimed).toHaveLength(3);
      await Promise.all(claimed.map((f) => store.completeForward(f, 'w', 1000, { status: 200 })));
      expect(await bodies()).toBe(0);
    } finally {
      await store.close();
      await dropSchema(schema);
    }
  });

  it('answers StoreUnavailableError while the database is unreachable, then recovers by itself and listens again', async () => {
    const { proxy, schema, direct, proxied } = await storesBesideProxy();
    try {
      await direct.migrate();
      const heard = wakeRecorder(proxied);
      await listening(admin!, schema);
      expect(await ask(proxied, 1000, { tagId: 'before' })).toBe(1);

      proxy.cut();
      await expect(proxied.accept(batch(2000, [accepted('during')]))).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(proxied.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(proxied.status(2000)).rejects.toThrow(/PostgreSQL is unavailable/);

      // Back: the LISTEN connection returns by itself and wakes its listeners once,
      // since announcements made meanwhile were lost.
      const reconnected = heard.next(2);
      proxy.restore();
      await reconnected;
      expect(heard.kinds.slice(-2).sort()).toEqual(['forwards', 'operations']);

      await expect(proxied.ping()).resolves.toBeUndefined();
      expect(await ask(proxied, 3000, { tagId: 'after' })).toBe(1);

      const fromOther = heard.next(1);
      await ask(direct, 4000, { tagId: 'from-the-other-instance' });
      await fromOther;
      expect(heard.kinds.at(-1)).toBe('operations');
    } finally {
      await Promise.all([direct.close(), proxied.close()]);
      await proxy.close();
      await dropSchema(schema);
    }
  });

  it('says pauses may have gone unheard when its LISTEN connection is back, and the pause shared meanwhile is in the store', async () => {
    const { proxy, schema, direct, proxied } = await storesBesideProxy();
    try {
      await direct.migrate();
      const news: string[] = [];
      let heard = deferred();
      proxied.onPause((n) => {
        news.push(n.kind === 'shared' ? `shared ${n.account}` : 'unheard');
        heard.resolve();
      });
      // The first LISTEN says so too: a pause shared before it was not heard either.
      await heard.promise;
      expect(news).toEqual(['unheard']);

      proxy.cut();
      // Another instance meets a Retry-After while this one cannot hear it.
      await direct.sharePause('brand-a', Date.now() + 60_000, Date.now());
      heard = deferred();
      proxy.restore();
      await heard.promise;
      expect(news).toEqual(['unheard', 'unheard']);
      expect([...(await proxied.storedPauses(Date.now())).keys()]).toEqual(['brand-a']);
    } finally {
      await Promise.all([direct.close(), proxied.close()]);
      await proxy.close();
      await dropSchema(schema);
    }
  });
});

describe('openStore with PostgreSQL', () => {
  it('rejects with StoreUnavailableError when the database cannot be reached, leaving nothing open', async () => {
    // A proxy that drops every connection: unreachable without depending on any server.
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: 9 });
    proxy.cut();
    try {
      const config = loadConfig({ DATABASE_URL: `postgres://nobody@127.0.0.1:${proxy.port}/none`, DATABASE_CONNECT_TIMEOUT_MS: '1000' });
      await expect(openStore(config, silentLogger())).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      await proxy.close();
    }
  });
});

/** Two stores on one new schema: one connected directly, one through a TCP proxy the test can cut (and their schema, to drop). */
async function storesBesideProxy() {
  const target = new URL(url!);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const viaProxy = new URL(url!);
  viaProxy.host = `127.0.0.1:${proxy.port}`;
  const schema = newSchema();
  return { proxy, schema, direct: pgStore(schema), proxied: pgStore(schema, { url: viaProxy.toString(), connectTimeoutMs: 1000 }) };
}
