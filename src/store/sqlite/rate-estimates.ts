import type { Logger } from '../../log';
import type { StoreEngine } from '../shared/store-engine';
import { KEEP_RATE_ESTIMATE, RATE_ESTIMATES, rateEstimateParams, toRateEstimates } from '../sql/rate-estimates';
import type { SqliteDb } from './db';

type RateEstimateMethods = Pick<StoreEngine, 'keepRateEstimate' | 'storedRateEstimates'>;

/**
 * The rate estimates of the SQLite store, kept for the process that starts after this one.
 * Without an fsync (relaxed): a process crash keeps the commit; a power cut that undoes it
 * costs at most what a gate started without it pays to learn the limit again.
 */
export function rateEstimatesSqlite(db: SqliteDb, log: Logger): RateEstimateMethods {
  return {
    keepRateEstimate: async (account, estimate) => {
      db.relaxed(() => db.run(KEEP_RATE_ESTIMATE, rateEstimateParams(account, estimate)));
    },
    storedRateEstimates: async () => toRateEstimates(db.all(RATE_ESTIMATES), log),
  };
}
