import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import pg from 'pg';
import type { Logger } from '../../log';
import { SessionLostError, type CallerRoles, type InstanceSession } from '../store';
import { advisoryLockKey } from './advisory-lock';
import { sessionCallerRoles } from './caller-roles';

/**
 * An instance's proof that it is alive, for the other instances sharing the
 * database (CONTRACT.md "Leases"; DESIGN.md "Liveness, not only leases").
 *
 * - The instance takes a session advisory lock on a fresh id on a connection of its
 *   own and lists the id in `instances`. Claims name that id as their holder.
 * - Every `checkEveryMs` it runs one cheap statement on that connection, with a
 *   short timeout: deleting every other listed instance whose lock it can take.
 *   PostgreSQL drops a session's locks when the session ends (the process died,
 *   or its connection was cut), so an instance that can take a lock knows its
 *   holder is gone. The leases of an instance no longer listed come back at their
 *   call deadlines (see LEASE_END), and every instance is woken for them.
 * - When that statement fails or times out, the session is lost: the signal
 *   aborts (calls stop, the leases are abandoned), and a new session is taken
 *   under a NEW id — the old one stays gone, so nobody waits for it again.
 */

/**
 * When a leased row's lease ends, for claims and wake-ups (SQL over a row of
 * operations or forwards): at `leased_until` while its holder is listed in
 * `instances` (alive: the lease is renewed for as long as it works), at the call
 * deadline once its holder is gone (none of its calls can still be running then: a
 * holder aborts them at that deadline, see CallLease, and one cut off from the database
 * has aborted them when it lost its session). Leases without a holder or deadline (taken by a process that
 * held no session, or before store step 5) end at `leased_until`.
 */
export const LEASE_END = `(CASE
    WHEN lease_holder IS NOT NULL AND call_deadline IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM instances i WHERE i.id = lease_holder)
    THEN LEAST(leased_until, call_deadline)
    ELSE leased_until END)`;

/** $1 ids. */
const UNLIST = 'DELETE FROM instances WHERE id = ANY($1::text[]) RETURNING id';

/** $1 this instance's id, $2 the lock key of an instance id without the id. */
const SWEEP_GONE = `
  DELETE FROM instances
  WHERE id <> $1 AND pg_try_advisory_xact_lock(hashtextextended($2 || id, 0))
  RETURNING id`;

export interface LivenessOptions {
  /** Settings for a connection of its own (not a pooled one: the lock lives as long as the connection). */
  clientConfig: () => Promise<pg.ClientConfig>;
  schema: string | undefined;
  log: Logger;
  /** NOTIFY channel and payloads that wake the other instances' workers. */
  channel: string;
  wakePayloads: readonly string[];
  /** Wakes this process's workers: a gone instance's leases come back soon. */
  onGone(): void;
  checkEveryMs?: number;
  /** A check that takes longer means the session is lost. */
  checkTimeoutMs?: number;
}

export interface Liveness extends InstanceSession {
  readonly callers: CallerRoles;
  /** The id claims name as their lease holder while the session is held; undefined otherwise. */
  readonly holder: string | undefined;
  /** Resolves once the first session is held, or its first attempt failed (then it keeps trying). */
  readonly started: Promise<void>;
  /** Ends the session (its leases were released by the workers) and stops trying. */
  stop(): Promise<void>;
}

/**
 * The application_name of the session connection (pg_stat_activity; `autotag status` shows it for
 * the holder of a caller role): which host and process an instance id is. An `application_name` in
 * DATABASE_URL wins (pg reads the URL over the settings). At most 63 bytes (the server's limit):
 * a long host name is cut, not the pid.
 */
export function sessionName(host = hostname(), pid = process.pid): string {
  const tail = ` pid ${pid}`;
  return `autotag ${host.slice(0, 63 - 'autotag '.length - tail.length)}${tail}`;
}

/**
 * The server ends the session of an instance that sent nothing on it for this long (its check
 * runs every second): the silence of a frozen process, as the keepalives (`tcp_user_timeout`,
 * 10 s) are that of a dead network.
 */
export const IDLE_SESSION_MS = 10_000;

const FIRST_RETRY_MS = 100;
/**
 * Retries of a lost session back off to one a second, no slower: delivery waits for the session,
 * so after the database comes back the calls resume within about this long (at 5 s, a webhook
 * answered right after an outage waited 2–5 s for its tag call). An attempt is one connection.
 */
const MAX_RETRY_MS = 1000;

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function startLiveness(o: LivenessOptions): Liveness {
  const checkEveryMs = o.checkEveryMs ?? 1000;
  const checkTimeoutMs = o.checkTimeoutMs ?? 2500;
  const idleSessionMs = Math.max(IDLE_SESSION_MS, 4 * checkEveryMs);
  const lockKey = (id: string) => advisoryLockKey(o.schema, `instance:${id}`);
  const listeners = new Set<(live: boolean) => void>();
  const failed = new WeakSet<pg.Client>();
  let stopped = false;
  let client: pg.Client | undefined;
  let holder: string | undefined;
  /** Ids of this process's lost sessions, unlisted once a new session is held. */
  let lostIds: string[] = [];
  let controller = new AbortController();
  controller.abort(new SessionLostError('no PostgreSQL instance session is held yet'));
  let checkTimer: NodeJS.Timeout | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let retryMs = FIRST_RETRY_MS;
  let checking = false;

  // Its locks live on the session's connection; a statement that fails there loses the session, as the check does.
  const callers = sessionCallerRoles({
    schema: o.schema,
    log: o.log,
    async query(sql, params) {
      const c = client;
      if (!c) return undefined;
      try {
        const r = await c.query<Record<string, unknown>>(sql, params);
        return client === c ? r : undefined;
      } catch (err) {
        fail(c, err);
        throw err;
      }
    },
  });

  const emit = (live: boolean) => {
    if (live) callers.sessionHeld();
    else callers.sessionLost();
    for (const f of [...listeners]) f(live);
  };

  function close(c: pg.Client): void {
    c.removeAllListeners();
    c.on('error', () => undefined);
    c.end().catch(() => undefined);
  }

  function fail(c: pg.Client, err: unknown): void {
    if (failed.has(c)) return;
    failed.add(c);
    close(c);
    if (client === c) {
      client = undefined;
      clearInterval(checkTimer);
      const was = holder!;
      holder = undefined;
      lostIds.push(was);
      controller.abort(new SessionLostError(`the PostgreSQL session of this instance (${was}) was lost: ${messageOf(err)}`));
      o.log.error('PostgreSQL instance session lost: no call starts, calls in flight are aborted and their leases abandoned', {
        instance: was,
        error: messageOf(err),
      });
      emit(false);
    }
    retryLater();
  }

  function retryLater(): void {
    if (stopped || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect();
    }, retryMs);
    retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
  }

  async function connect(): Promise<void> {
    if (stopped) return;
    const id = randomUUID();
    let config: pg.ClientConfig;
    try {
      config = await o.clientConfig();
    } catch {
      retryLater(); // the database is unreachable; the pool reports why
      return;
    }
    if (stopped) return;
    const c = new pg.Client({ ...config, application_name: sessionName(), keepAlive: true, keepAliveInitialDelayMillis: 1000, query_timeout: checkTimeoutMs });
    c.on('error', (err) => fail(c, err));
    c.on('end', () => fail(c, new Error('connection ended')));
    try {
      await c.connect();
      // The server drops the session (and its lock) when this side goes silent, not hours later.
      await c.query('SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 3');
      await c.query('SET tcp_user_timeout = 10000').catch(() => undefined); // PostgreSQL 12+
      // A frozen process (SIGSTOP, a paused VM, a loop blocked for long) keeps its connection open
      // and its kernel answers the keepalives: the server ends a session silent this long (the
      // check runs every checkEveryMs), and with it the instance's lock and caller roles, as if the
      // process had died. PostgreSQL 14+; an older server keeps them until the process runs again.
      await c.query(`SET idle_session_timeout = ${idleSessionMs}`).catch(() => undefined);
      const { rows } = await c.query('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [lockKey(id)]);
      if (rows[0]?.ok !== true) throw new Error(`the lock of the new instance id ${id} is taken`);
      // Listed only while locked: a sweeper must be able to tell it is alive.
      await c.query('INSERT INTO instances (id, started_at) VALUES ($1, $2)', [id, Date.now()]);
      // This process's lost sessions are gone for good: every call they made was aborted.
      if (lostIds.length > 0) await announceGone(c, (await c.query(UNLIST, [lostIds])).rows);
    } catch (err) {
      fail(c, err);
      return;
    }
    if (stopped || failed.has(c)) {
      close(c);
      return;
    }
    lostIds = [];
    client = c;
    holder = id;
    retryMs = FIRST_RETRY_MS;
    controller = new AbortController();
    o.log.info('PostgreSQL instance session held', { instance: id });
    checkTimer = setInterval(() => void check(c), checkEveryMs);
    checkTimer.unref();
    emit(true);
  }

  async function check(c: pg.Client): Promise<void> {
    if (checking || client !== c) return;
    checking = true;
    try {
      const { rows } = await c.query(SWEEP_GONE, [holder, lockKey('')]);
      if (client === c) await announceGone(c, rows);
    } catch (err) {
      fail(c, err);
    } finally {
      checking = false;
    }
  }

  /** Wakes every instance's workers (this one's too) for the leases of instances just unlisted. */
  async function announceGone(c: pg.Client, rows: { id: string }[]): Promise<void> {
    if (rows.length === 0) return;
    o.log.info('instances gone: their leases come back at their call deadlines', { instances: rows.map((r) => r.id) });
    await c.query(`SELECT ${o.wakePayloads.map((_, i) => `pg_notify($1, $${i + 2})`).join(', ')}`, [o.channel, ...o.wakePayloads]);
    o.onGone();
  }

  const started = connect();

  return {
    get live() {
      return client !== undefined;
    },
    get signal() {
      return controller.signal;
    },
    get holder() {
      return holder;
    },
    callers,
    started,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async stop() {
      stopped = true;
      callers.stop();
      clearInterval(checkTimer);
      clearTimeout(retryTimer);
      const c = client;
      client = undefined;
      if (!c) return;
      const ids = [...lostIds, ...(holder ? [holder] : [])];
      holder = undefined;
      c.removeAllListeners();
      c.on('error', () => undefined);
      // Unlisted first: the others need not find out by taking the lock.
      await c.query(UNLIST, [ids]).catch(() => undefined);
      await c.end().catch(() => undefined);
    },
  };
}
