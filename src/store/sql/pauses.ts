import { num, str, type Row } from '../shared/rows';

/**
 * Account pause statements that both engines run as written (store step 12, migrations/portable.ts):
 * until when a `Retry-After` paused calls to each provider account (Store.sharePause).
 */

/** $1 now: pauses that have ended are of no use to anyone (an account no longer configured keeps none for good). */
export const DELETE_ENDED_PAUSES = `DELETE FROM account_pauses WHERE paused_until <= $1`;

/** $1 account, $2 until: a later end already kept stays (two instances met Retry-Afters of their own). */
export const KEEP_PAUSE = `
  INSERT INTO account_pauses (account, paused_until) VALUES ($1, $2)
  ON CONFLICT (account) DO UPDATE SET paused_until = excluded.paused_until
  WHERE excluded.paused_until > account_pauses.paused_until`;

/** $1 now. */
export const PAUSES_AFTER = `SELECT account, paused_until FROM account_pauses WHERE paused_until > $1`;

export function toPauses(rows: readonly Row[]): Map<string, number> {
  return new Map(rows.map((r) => [str(r.account, 'account'), num(r.paused_until, 'paused_until')]));
}
