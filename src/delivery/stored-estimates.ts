import type { Logger } from '../log';
import type { Store, StoredRateEstimate } from '../store/store';
import type { OperationWorker } from './operation-worker';
import type { LearnedRate } from './rate-gate';

/**
 * A stored estimate older than this is not started from. Made at a run of 429s, so its age is
 * the time since the account's calls last met its limit: a day covers a restart (a deploy,
 * Heroku's daily one) and a caller role handed over in the middle of a drain, or between
 * drains of the same day, while a limit changed since (another plan) costs a day at most. Too
 * high, it is lowered by the next 429 as a fit is (a few runs when far too high); too low, the
 * probe finds more (+12.5 % after 30 s, double after a minute).
 */
export const STORED_ESTIMATE_MAX_AGE_MS = 24 * 3_600_000;

/** Why a gate does not start from `e` now, for the log (undefined: it does). */
export function notStartedFromBecause(e: StoredRateEstimate, now: number): string | undefined {
  if (!e.confident) return 'it rests on a few calls only';
  if (!(e.rate > 0) || !Number.isFinite(e.rate)) return `its rate (${String(e.rate)}) is not a positive number`;
  // An estimate made "later" by a clock ahead of this one's counts as made now.
  if (now - e.at > STORED_ESTIMATE_MAX_AGE_MS) return 'it is older than a day';
  return undefined;
}

/** What a gate may start from in `e`, now: nothing unless it rests on long evidence and is recent enough. */
export function startingEstimate(e: StoredRateEstimate | undefined, now: number): LearnedRate | undefined {
  if (e === undefined || notStartedFromBecause(e, now) !== undefined) return undefined;
  const burst = e.burst !== undefined && e.burst > 0 && Number.isFinite(e.burst) ? e.burst : undefined;
  return burst === undefined ? { rate: e.rate, pausing: e.pausing } : { rate: e.rate, burst, pausing: e.pausing };
}

/**
 * Starts the gates of `accounts` (those of `workers` by default) from the estimates kept in the
 * store (Store.keepRateEstimate): with SQLite at start, before the first claim; with PostgreSQL
 * and PROVIDER_CALLERS=one whenever this instance takes an account's caller role (`caller`; at
 * start too), from what the previous caller — or this instance before a restart — learned.
 * Taking the role, an account without a recent estimate gets a fresh gate: what this instance
 * learned when it last held the role is no newer than what it kept. Never rejects: estimates
 * that cannot be read count as none kept.
 */
export async function startFromStoredEstimates(o: {
  store: Store;
  workers: ReadonlyMap<string, OperationWorker>;
  accounts?: readonly string[];
  now: () => number;
  log: Logger;
  when: 'start' | 'caller';
}): Promise<void> {
  let stored: ReadonlyMap<string, StoredRateEstimate>;
  try {
    stored = await o.store.storedRateEstimates();
  } catch (err) {
    // As if none were kept: taking the role, the gate starts fresh, as the log says. The one this
    // instance had is what it learned when it last held the role, maybe hours ago, and its probe
    // has climbed since then (rate-gate.ts: a curve begun then is unpaced, in effect).
    o.log.warn('could not read the rate estimates kept in the store: calls start unpaced', { err, when: o.when });
    stored = new Map();
  }
  const now = o.now();
  for (const account of o.accounts ?? [...o.workers.keys()]) {
    const worker = o.workers.get(account);
    const e = stored.get(account);
    if (!worker) continue;
    const from = startingEstimate(e, now);
    if (o.when === 'caller' || from !== undefined) worker.rateGate.startFrom(from);
    if (e === undefined) continue;
    const fields = { account, estimatePerSecond: Math.round(e.rate * 10) / 10, estimatedAgoMs: Math.max(0, Math.round(now - e.at)), when: o.when };
    const why = notStartedFromBecause(e, now);
    if (why === undefined) o.log.info('calls to a provider account start paced at the rate estimate kept in the store', fields);
    else o.log.info(`calls to a provider account start unpaced: the rate estimate kept in the store is not used, ${why}`, fields);
  }
}
