/** Per-minute activity statements that both engines run as written (see migrations/activity.ts). */

/** $1 since (a minute start). */
export const ACTIVITY_SINCE = `SELECT minute, series, key, count FROM activity_minutes WHERE minute >= $1 ORDER BY minute, series, key`;

/** $1 before: activity goes with the history (HISTORY_RETENTION_DAYS); a day is 1,440 minutes, so one statement. */
export const PRUNE_ACTIVITY = `DELETE FROM activity_minutes WHERE minute < $1`;

export const ADD_TO_ACTIVITY = `ON CONFLICT (minute, series, key) DO UPDATE SET count = activity_minutes.count + excluded.count`;
