import type { Logger } from '../../log';
import type { StoredRateEstimate } from '../store';
import { num, optNum, str, type Row } from '../shared/rows';

/**
 * Rate estimate statements that both engines run as written (store step 13,
 * migrations/portable.ts): each provider account's limit as its rate gate last estimated it
 * (Store.keepRateEstimate), so a gate started later — after a restart, or on the instance that
 * takes the account's caller role over — starts from it.
 */

/** $1 account, $2 rate, $3 burst, $4 confident, $5 pausing, $6 source, $7 estimated at: an estimate made later already kept stays. */
export const KEEP_RATE_ESTIMATE = `
  INSERT INTO account_rate_estimates (account, rate, burst, confident, pausing, source, estimated_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7)
  ON CONFLICT (account) DO UPDATE SET rate = excluded.rate, burst = excluded.burst, confident = excluded.confident,
    pausing = excluded.pausing, source = excluded.source, estimated_at = excluded.estimated_at
  WHERE excluded.estimated_at >= account_rate_estimates.estimated_at`;

export const RATE_ESTIMATES = `SELECT account, rate, burst, confident, pausing, source, estimated_at FROM account_rate_estimates`;

export function rateEstimateParams(account: string, e: StoredRateEstimate): (string | number | null)[] {
  return [account, e.rate, e.burst ?? null, e.confident ? 1 : 0, e.pausing ? 1 : 0, e.source, Math.floor(e.at)];
}

/**
 * The estimates of `rows`, by account. A row that is no estimate — its rate no positive number
 * (PostgreSQL keeps 'NaN' and 'Infinity' in a DOUBLE PRECISION, SQLite keeps an infinity, or text
 * written by hand) or a column unreadable — is left out with a warning naming its account and
 * value: one such row must not fail the read of every other account's estimate.
 */
export function toRateEstimates(rows: readonly Row[], log: Logger): Map<string, StoredRateEstimate> {
  const estimates = new Map<string, StoredRateEstimate>();
  for (const r of rows) {
    const account = str(r.account, 'account');
    const rate = typeof r.rate === 'number' ? r.rate : NaN;
    if (!(rate > 0) || !Number.isFinite(rate)) {
      log.warn('a rate estimate kept in the store is not read: its rate is not a positive number', { account, rate: String(r.rate) });
      continue;
    }
    try {
      const burst = optNum(r.burst, 'burst');
      const e: StoredRateEstimate = {
        rate,
        confident: num(r.confident, 'confident') === 1,
        pausing: num(r.pausing, 'pausing') === 1,
        source: str(r.source, 'source'),
        at: num(r.estimated_at, 'estimated_at'),
      };
      if (burst !== undefined) e.burst = burst;
      estimates.set(account, e);
    } catch (err) {
      log.warn('a rate estimate kept in the store is not read: a column is not what it should be', { account, err });
    }
  }
  return estimates;
}
