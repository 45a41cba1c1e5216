import type { Logger } from '../../log';
import type { CallerRoles } from '../caller-roles';
import { advisoryLockKey } from './advisory-lock';

/** While another instance holds an account's role, it is tried again this often (a holder that died is replaced within about this). */
export const CALLER_RETRY_MS = 500;

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

/**
 * The caller role of each provider account (see CallerRoles), as a session advisory lock on
 * (schema, account) taken on the connection that proves this instance alive (liveness.ts).
 * That connection ends with the process, or is cut off with the session: the role goes with
 * it at the moment the instance's own lock does, so another instance takes the role only when
 * it could also take back the dead holder's leases (at their call deadlines, LEASE_END).
 */
export function sessionCallerRoles(o: { schema: string | undefined; log: Logger; query: SessionQuery }): SessionCallerRoles {
  const wanted = new Set<string>();
  const held = new Set<string>();
  const listeners = new Set<(account: string, held: boolean) => void>();
  const key = (account: string) => advisoryLockKey(o.schema, `caller:${account}`);
  let timer: NodeJS.Timeout | undefined;
  let trying = false;
  let stopped = false;
  /**
   * After a lost session: not tried before then, so an instance that was waiting takes the roles
   * (performance.now(): a wall clock set back meanwhile must not hold the roles off for as long).
   */
  let notBefore = 0;

  const emit = (account: string, now: boolean) => {
    for (const f of [...listeners]) f(account, now);
  };

  /** One statement for every role wanted and not held. A session lock is re-entrant: a held one is never tried again. */
  async function tryWanted(): Promise<void> {
    const accounts = [...wanted].filter((a) => !held.has(a));
    if (trying || stopped || accounts.length === 0 || performance.now() < notBefore) return;
    trying = true;
    try {
      const r = await o.query('SELECT a AS account, pg_try_advisory_lock(hashtextextended($1 || a, 0)) AS ok FROM unnest($2::text[]) AS a', [key(''), accounts]);
      const given: string[] = [];
      for (const row of r?.rows ?? []) {
        const account = String(row.account);
        if (row.ok !== true) continue;
        // Released (a stop) while this statement ran: given back at once.
        if (stopped || !wanted.has(account)) {
          given.push(account);
          continue;
        }
        held.add(account);
        o.log.info('this instance is the caller of a provider account now (the other instances leave its calls to it)', { account });
        emit(account, true);
      }
      if (given.length > 0) await unlock(given);
    } catch {
      // The session's own check reports it (a failed statement on that connection loses the session).
    } finally {
      trying = false;
    }
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
      void tryWanted();
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
      if (held.size > 0) notBefore = performance.now() + 3 * CALLER_RETRY_MS;
      loseAll('the database session was lost');
    },
    stop() {
      stopped = true;
      clearInterval(timer);
      held.clear();
    },
  };
}
