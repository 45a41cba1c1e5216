import type { Logger } from '../../log';
import type { CallerRoles } from '../caller-roles';
import { advisoryLockKey, GRANTED_ADVISORY_LOCKS } from './advisory-lock';

/** While another instance holds an account's role, it is tried again this often (a holder that died is replaced within about this). */
export const CALLER_RETRY_MS = 500;
/**
 * A free role this instance passes over because it holds its share already is tried anyway once
 * it has stayed free this long: no instance below its share wants it (the instances' views differ:
 * an account configured on some instances only, the count of instances changing).
 */
export const PASSED_OVER_MS = 2500;
/** An instance that has held more than its share for this long gives one role up. */
export const ABOVE_SHARE_MS = 5000;
/** …and, still above it, the next one this much later (the first has been taken meanwhile). */
const ABOVE_SHARE_AGAIN_MS = 2000;
/**
 * A role given up is not contended for again for this long (an instance below its share takes it
 * within a retry), unless it stays free for PASSED_OVER_MS: then no other instance wants it, and it
 * is taken back and kept.
 */
export const GIVEN_UP_MS = 10_000;
/** After a lost session: not tried before then, so an instance that was waiting takes the roles. */
const AFTER_LOST_SESSION_MS = 3 * CALLER_RETRY_MS;

/** Runs a statement on the session's own connection; undefined when no session is held. A failure there loses the session. */
export type SessionQuery = (sql: string, params: unknown[]) => Promise<{ rows: Record<string, unknown>[] } | undefined>;

export interface SessionCallerRoles extends CallerRoles {
  /** A new session is held: the roles wanted are tried on it now. */
  sessionHeld(): void;
  /** The session was lost, and with its connection every lock it held: every role is lost. */
  sessionLost(): void;
  /** The session ends (its connection closes, and its locks with it). */
  stop(): void;
}

/** How an account not held is treated by one try (TRY_ROLES $3). */
const enum Mode {
  /** Only whether it is free is read (a role given up a moment ago). */
  Watch = 0,
  /** Tried when it is free and this instance holds fewer than its share. */
  Share = 1,
  /** Tried when it is free, share or not. */
  Anyway = 2,
}

/**
 * One statement on the session connection: the live instances (rows of `instances`), and for
 * each account wanted and not held whether its lock is free (pg_locks: a bigint advisory key shows
 * as classid, its high half, objid, its low half, objsubid 1; GRANTED_ADVISORY_LOCKS), trying the
 * lock of the free ones this instance contends for — those in Mode.Anyway, and of those in
 * Mode.Share as many as it lacks of its share, ceil(wanted / live). A CASE evaluates
 * pg_try_advisory_lock only on the rows it picks.
 *
 * $1 the key of a caller lock without the account, $2 the accounts (in the order they are
 * preferred), $3 their Mode, $4 how many accounts this instance wants, $5 how many it holds (both
 * without the kept roles).
 * One row at least (live), with a null account when none is asked about.
 */
const TRY_ROLES = `
  WITH live AS (SELECT greatest(count(*), 1)::int AS n FROM instances),
  ${GRANTED_ADVISORY_LOCKS},
  candidates AS (
    SELECT c.account, c.mode, c.ord,
      NOT EXISTS (SELECT 1 FROM locks l WHERE l.key = hashtextextended($1 || c.account, 0)) AS free
    FROM unnest($2::text[], $3::int[]) WITH ORDINALITY AS c(account, mode, ord)
  ),
  ranked AS (
    SELECT candidates.*, row_number() OVER (PARTITION BY free, mode ORDER BY ord) AS rank FROM candidates
  )
  SELECT live.n AS live, r.account, r.free,
    CASE WHEN r.free AND (r.mode = ${Mode.Anyway} OR (r.mode = ${Mode.Share} AND r.rank <= ($4::int + live.n - 1) / live.n - $5::int))
      THEN pg_try_advisory_lock(hashtextextended($1 || r.account, 0)) END AS ok
  FROM live LEFT JOIN ranked r ON true`;

/**
 * The caller role of each provider account (see CallerRoles), as a session advisory lock on
 * (schema, account) taken on the connection that proves this instance alive (liveness.ts).
 * That connection ends with the process, or is cut off with the session: the role goes with
 * it at the moment the instance's own lock does, so another instance takes the role only when
 * it could also take back the dead holder's leases (at their call deadlines, LEASE_END).
 *
 * The roles spread over the live instances (README "One caller per provider account"): an
 * instance contends for a free role only while it holds fewer than its share, ceil(accounts it
 * wants / live instances); one that has held more than its share for ABOVE_SHARE_MS gives one up
 * (its listeners are told at once: nothing more of that account is claimed here) and leaves it
 * for GIVEN_UP_MS to an instance below its share. So that no account goes uncalled when the
 * instances' views differ, a free role passed over for PASSED_OVER_MS is taken anyway, and then
 * kept — set aside from the share (which is then of the other accounts) and never given up for
 * it — until the count of live instances or of accounts wanted changes.
 */
export function sessionCallerRoles(o: { schema: string | undefined; log: Logger; query: SessionQuery }): SessionCallerRoles {
  const wanted = new Set<string>();
  /** In the order taken: the latest is the one given up first. */
  const held = new Set<string>();
  /** Held beyond the share because no other instance took them (see above). */
  const kept = new Set<string>();
  /** Accounts seen free and passed over at every try since then (performance.now()). */
  const passedSince = new Map<string, number>();
  /** Accounts given up for the share, until when they are left to the others. */
  const givenUp = new Map<string, number>();
  const listeners = new Set<(account: string, held: boolean) => void>();
  const key = (account: string) => advisoryLockKey(o.schema, `caller:${account}`);
  let timer: NodeJS.Timeout | undefined;
  let trying = false;
  /** A try is due at the end of this turn of the event loop (want). */
  let tryQueued = false;
  let stopped = false;
  /** The view the kept roles were kept under: live instances and accounts wanted. */
  let view = '';
  /** Since when this instance holds more than its share. */
  let aboveSince: number | undefined;
  /**
   * After a lost session: not tried before then, so an instance that was waiting takes the roles
   * (performance.now(): a wall clock set back meanwhile must not hold the roles off for as long).
   */
  let notBefore = 0;

  const emit = (account: string, now: boolean) => {
    for (const f of [...listeners]) f(account, now);
  };

  function modeOf(account: string, now: number): Mode {
    const since = passedSince.get(account);
    const patient = since !== undefined && now - since >= PASSED_OVER_MS;
    if ((givenUp.get(account) ?? 0) > now) return patient ? Mode.Anyway : Mode.Watch;
    givenUp.delete(account);
    return patient ? Mode.Anyway : Mode.Share;
  }

  /** One statement for the roles wanted and not held. A session lock is re-entrant: a held one is never tried again. */
  async function tryWanted(): Promise<void> {
    if (trying || stopped || wanted.size === 0 || performance.now() < notBefore) return;
    trying = true;
    try {
      const now = performance.now();
      // Shuffled: instances below their share at once mostly try different free roles.
      const accounts = [...wanted].filter((a) => !held.has(a)).sort(() => Math.random() - 0.5);
      const modes = accounts.map((a) => modeOf(a, now));
      const r = await o.query(TRY_ROLES, [key(''), accounts, modes, wanted.size - kept.size, held.size - kept.size]);
      if (!r) return;
      const live = Number(r.rows[0]?.live ?? 1);
      const given: string[] = [];
      for (const row of r.rows) {
        if (row.account === null || row.account === undefined) continue;
        const account = String(row.account);
        if (row.ok !== true) {
          // Passed over while free (share, or given up): counted from the first such try.
          if (row.free === true && row.ok === null) passedSince.set(account, passedSince.get(account) ?? now);
          else passedSince.delete(account);
          continue;
        }
        passedSince.delete(account);
        // Released (a stop) while this statement ran: given back at once.
        if (stopped || !wanted.has(account)) {
          given.push(account);
          continue;
        }
        held.add(account);
        const beyondShare = modes[accounts.indexOf(account)] === Mode.Anyway;
        if (beyondShare) kept.add(account);
        o.log.info('this instance is the caller of a provider account now (the other instances leave its calls to it)', {
          account,
          share: share(live),
          liveInstances: live,
          ...(beyondShare ? { beyondShare } : {}),
        });
        emit(account, true);
      }
      if (given.length > 0) await unlock(given);
      if (!stopped) await rebalance(live, now);
    } catch {
      // The session's own check reports it (a failed statement on that connection loses the session).
    } finally {
      trying = false;
    }
  }

  /** Kept roles aside: this instance's share of the rest. */
  const share = (live: number) => Math.ceil((wanted.size - kept.size) / live);

  /** Above its share for ABOVE_SHARE_MS: gives the latest role taken (not a kept one) up. */
  async function rebalance(live: number, now: number): Promise<void> {
    const nowView = `${live}/${wanted.size}`;
    if (nowView !== view) kept.clear();
    view = nowView;
    const spare = [...held].filter((a) => !kept.has(a));
    if (spare.length <= share(live)) {
      aboveSince = undefined;
      return;
    }
    aboveSince ??= now;
    if (now - aboveSince < ABOVE_SHARE_MS) return;
    aboveSince = now - ABOVE_SHARE_MS + ABOVE_SHARE_AGAIN_MS;
    const account = spare[spare.length - 1]!; // the latest taken
    held.delete(account);
    givenUp.set(account, now + GIVEN_UP_MS);
    passedSince.set(account, now);
    o.log.info('this instance gives up the caller role of a provider account: it holds more than its share (an instance below its share takes it)', {
      account,
      held: held.size + 1,
      kept: kept.size,
      share: share(live),
      liveInstances: live,
    });
    // Nothing more of it is claimed here from now; the calls in flight end, their keys under their leases.
    emit(account, false);
    await unlock([account]);
  }

  function unlock(accounts: string[]): Promise<unknown> {
    return o.query('SELECT pg_advisory_unlock(hashtextextended($1 || a, 0)) FROM unnest($2::text[]) AS a', [key(''), accounts]).catch(() => undefined);
  }

  function schedule(): void {
    if (timer || stopped) return;
    timer = setInterval(() => void tryWanted(), CALLER_RETRY_MS);
    timer.unref();
  }

  function loseAll(why: string): void {
    kept.clear();
    passedSince.clear();
    aboveSince = undefined;
    for (const account of [...held]) {
      held.delete(account);
      o.log.warn('this instance is no longer the caller of a provider account', { account, why });
      emit(account, false);
    }
  }

  return {
    want(account) {
      if (stopped || wanted.has(account)) return;
      wanted.add(account);
      schedule();
      // Once the caller has asked for every account it asks for now (a delivery's start asks for
      // each in turn): tried at once, the first alone went, and the rest waited for the next retry.
      if (tryQueued) return;
      tryQueued = true;
      queueMicrotask(() => {
        tryQueued = false;
        void tryWanted();
      });
    },
    holds: (account) => held.has(account),
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async releaseAll() {
      clearInterval(timer);
      timer = undefined;
      const accounts = [...held];
      wanted.clear();
      loseAll('this instance is stopping');
      if (accounts.length > 0) await unlock(accounts);
    },
    sessionHeld: () => void tryWanted(),
    sessionLost() {
      // A new session comes within 0.1–1 s: the instances that were waiting try first (every CALLER_RETRY_MS).
      if (held.size > 0) notBefore = performance.now() + AFTER_LOST_SESSION_MS;
      loseAll('the database session was lost');
    },
    stop() {
      stopped = true;
      clearInterval(timer);
      held.clear();
    },
  };
}
