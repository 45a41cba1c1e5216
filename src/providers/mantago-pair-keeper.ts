import type { Logger } from '../log';
import { jwtExpiresAt } from './jwt-exp';
import type { MantagoCredentials } from './mantago-credentials';

/**
 * Refreshes an account's MantaGo pair before its JWT runs out even when no tag call comes
 * (CONTRACT.md: "before the JWT's exp when it can read it … proactively when less than 24
 * hours of the JWT remain"). `MantagoCredentials.current()` refreshes before a call; an
 * account without a call in the last day of its token let it expire. This looks at the pair
 * in force when its last day begins (and at start), and asks `current()`, which refreshes
 * under the account's lock — so with several instances one refreshes and the others take
 * the stored pair, as for calls.
 */
export interface PairKeeper {
  /**
   * No more looks. Resolves once a look under way has ended: it may be just about to start a
   * refresh (after reading the store), which `MantagoCredentials.refreshesDone` would not yet
   * count — so the owner waits for this first, then for the refreshes.
   */
  stop(): Promise<void>;
}

export interface PairKeeperOptions {
  credentials: Pick<MantagoCredentials, 'current'>;
  log: Logger;
  now?: () => number;
  /** When less than this remains of the JWT, it is refreshed (CONTRACT.md: 24 hours). */
  refreshBeforeMs?: number;
  /**
   * How soon to look again when a look found the refresh due but the pair not refreshed (it
   * failed, or `current()` waits between proactive refreshes): its proactive pause.
   */
  retryMs?: number;
  /**
   * The longest wait between looks: a pair stored by another instance, or by a refresh after a
   * 401, is seen within this (and setTimeout cannot wait more than 24.8 days).
   */
  maxWaitMs?: number;
}

export const PAIR_KEEPER_MAX_WAIT_MS = 3600_000;

export function keepPairFresh(opts: PairKeeperOptions): PairKeeper {
  const now = opts.now ?? Date.now;
  const refreshBeforeMs = opts.refreshBeforeMs ?? 24 * 3600_000;
  const retryMs = opts.retryMs ?? 5 * 60_000;
  const maxWaitMs = opts.maxWaitMs ?? PAIR_KEEPER_MAX_WAIT_MS;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let looking: Promise<void> | undefined;

  const schedule = (ms: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      looking = look().finally(() => (looking = undefined));
    }, Math.max(0, Math.min(ms, maxWaitMs)));
    // Never what keeps the process alive: the server holds it while it serves.
    timer.unref();
  };

  async function look(): Promise<void> {
    timer = undefined;
    if (stopped) return;
    let wait = maxWaitMs;
    try {
      // Refreshes when less than refreshBeforeMs of the JWT is left (and logs how that went).
      const pair = await opts.credentials.current();
      const exp = jwtExpiresAt(pair.token);
      if (exp !== undefined) {
        const due = exp - refreshBeforeMs - now();
        wait = due > 0 ? due : retryMs;
      }
    } catch (err) {
      // Stopped meanwhile: the store or the client may have closed under it; nothing to say.
      if (stopped) return;
      // The store did not answer: looked at again later; a call meanwhile refreshes as before.
      opts.log.warn('could not look at the MantaGo token pair in force; will look again', { err });
      wait = retryMs;
    }
    schedule(wait);
  }

  schedule(0);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
      await looking;
    },
  };
}
