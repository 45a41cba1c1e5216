/** History, pruning and settings statements that both engines run as written (see sql/operations.ts). */

/** $1 user, $2 limit: the newest rows (callers put them back in time order). */
export const USER_EVENTS = `SELECT * FROM history_events WHERE user_id = $1 ORDER BY id DESC LIMIT $2`;
export const USER_CALLS = `SELECT * FROM history_calls WHERE user_id = $1 ORDER BY id DESC LIMIT $2`;
/** $1 user, $2 limit: the user's tags whose lifetime is running, soonest end first. */
export const USER_EXPIRING = `SELECT * FROM operations WHERE user_id = $1 AND expires_at IS NOT NULL ORDER BY expires_at, id LIMIT $2`;
/** $1 user: how many of each of the lists above the user has in all (each through its user index). */
export const USER_TOTALS = `
  SELECT (SELECT COUNT(*) FROM history_events WHERE user_id = $1) AS events,
         (SELECT COUNT(*) FROM history_calls WHERE user_id = $1) AS calls,
         (SELECT COUNT(*) FROM operations WHERE user_id = $1 AND expires_at IS NOT NULL) AS expiring`;
/** $1 limit. */
export const RECENT_EVENTS = `SELECT * FROM history_events ORDER BY id DESC LIMIT $1`;

/** Deletes go in chunks so no transaction holds the write lock for long. */
export const PRUNE_CHUNK = 5000;
/** $1 before. */
export const PRUNE_HISTORY_EVENTS = `
  DELETE FROM history_events WHERE id IN (SELECT id FROM history_events WHERE received_at < $1 LIMIT ${PRUNE_CHUNK})`;
export const PRUNE_HISTORY_CALLS = `
  DELETE FROM history_calls WHERE id IN (SELECT id FROM history_calls WHERE at < $1 LIMIT ${PRUNE_CHUNK})`;
export const PRUNE_SEEN_EVENTS = `
  DELETE FROM seen_events WHERE key IN (SELECT key FROM seen_events WHERE seen_at < $1 LIMIT ${PRUNE_CHUNK})`;

/** $1 key. */
export const GET_SETTING = `SELECT value FROM settings WHERE key = $1`;
/** $1 key, $2 value, $3 now. */
export const SET_SETTING = `
  INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)
  ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`;
