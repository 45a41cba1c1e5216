import type { Logger } from '../log';
import type { Store } from '../store/store';
import type { OperationWorker } from './operation-worker';

/** A stored pause read after the LISTEN connection was down is news only when it lasts this much longer than the one already heard. */
const PAUSE_HEARD_WITHIN_MS = 250;

/**
 * Pauses calls to each account whose `Retry-After` pause kept in the store (Store.sharePause)
 * has not ended: at start (`start`: met by another instance, or by the process before a restart),
 * and with PostgreSQL when pauses shared meanwhile may have gone unheard (`unheard`: the LISTEN
 * connection was down, or not up yet). Accounts this instance has no worker for are left alone.
 *
 * The end is an epoch time by the clock of the instance that met the `Retry-After`, read here by
 * this one's, as leases are: a clock behind that one's by s pauses s longer (never past
 * RETRY_MAX_MS from now: the worker caps it like any pause), one ahead by s pauses s less — and
 * meets a 429 then if s is more than what was left of the pause.
 */
export async function honourStoredPauses(o: {
  store: Store;
  workers: ReadonlyMap<string, OperationWorker>;
  now: number;
  log: Logger;
  when: 'start' | 'unheard';
}): Promise<void> {
  for (const [account, until] of await o.store.storedPauses(o.now)) {
    const worker = o.workers.get(account);
    if (!worker) continue;
    const longer = worker.pausedElsewhere(until - o.now);
    // Unheard: most are pauses this instance heard of when they were shared (longer by a few ms of clock and latency).
    if (o.when === 'start' ? longer > 0 : longer > PAUSE_HEARD_WITHIN_MS) {
      const message =
        o.when === 'start'
          ? 'calls to a provider account paused: a Retry-After met before this start has not ended'
          : 'calls to a provider account paused: another instance met its Retry-After while this one was not listening';
      o.log.info(message, { account, pauseMs: worker.gate.pausedMs() });
    }
  }
}
