/**
 * Step 7 in both engines: per-minute counts for the /admin charts (webhooks by
 * platform, rule matches, tag calls by outcome, 429s). Written by one upsert at most
 * once a second per instance (shared/activity-recorder.ts), read for the last 24
 * hours, pruned with the history. The same text suits SQLite and PostgreSQL.
 */
export const ACTIVITY_MINUTES_NAME = 'activity per minute';

export const ACTIVITY_MINUTES = `
      -- minute: the start of the minute (ms since the epoch); series: what is counted (a code,
      -- see ACTIVITY_SERIES in store.ts); key: the platform, rule id, outcome or account.
      CREATE TABLE activity_minutes (
        minute BIGINT NOT NULL,
        series TEXT NOT NULL,
        key TEXT NOT NULL,
        count BIGINT NOT NULL,
        PRIMARY KEY (minute, series, key)
      );
`;
