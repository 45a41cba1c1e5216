import type { Migration } from './migration';

/*
 * Steps whose SQL both engines run as written (SQLite 3.25+ renames columns as
 * PostgreSQL does). Each engine's list still says where it stands in its order.
 */

export const recipientAndDeadCodes: Migration = {
  version: 3,
  name: 'recipient column; dead-letter reason codes',
  sql: `
    -- The column has always held who the user wrote to (LINE destination, page id, …);
    -- "channel" now means the configured channel a webhook came in on.
    ALTER TABLE operations RENAME COLUMN channel TO recipient;
    ALTER TABLE history_events RENAME COLUMN channel TO recipient;

    -- Why a dead letter is kept, as a code the service acts on (dead_reason stays for people).
    ALTER TABLE operations ADD COLUMN dead_code TEXT;
    -- Dead letters kept before this step while a provider had no token said so in their reason.
    UPDATE operations SET dead_code = 'provider_not_configured'
    WHERE state = 'dead' AND (
      (provider = 'mantago' AND substr(dead_reason, 1, length('MANTAGO_TOKEN is not set')) = 'MANTAGO_TOKEN is not set') OR
      (provider = 'botbonnie' AND substr(dead_reason, 1, length('BOTBONNIE_TOKEN is not set')) = 'BOTBONNIE_TOKEN is not set'));
  `,
};

/**
 * Who holds a lease and when the calls made under it are over: with PostgreSQL a
 * lease of an instance that is gone comes back at `call_deadline` instead of at
 * `leased_until` (see postgres/liveness.ts). Meaningful only while `leased_until`
 * is set; SQLite (one instance) keeps the columns for a schema like PostgreSQL's.
 */
export const LEASE_HOLDER_COLUMNS = `
    ALTER TABLE operations ADD COLUMN lease_holder TEXT;
    ALTER TABLE operations ADD COLUMN call_deadline BIGINT;
    ALTER TABLE forwards ADD COLUMN lease_holder TEXT;
    ALTER TABLE forwards ADD COLUMN call_deadline BIGINT;
`;
export const LEASE_HOLDERS_NAME = 'lease holders and call deadlines';

/**
 * The environment's channel a row written before store step 6 most likely came in on:
 * `line`, `facebook` (Messenger and Instagram share the Meta app's endpoint) or
 * `whatsapp`. `$column` is a platform column.
 */
export const channelOfPlatform = (column: string): string =>
  `CASE ${column} WHEN 'line' THEN 'line' WHEN 'whatsapp' THEN 'whatsapp' ELSE 'facebook' END`;

/**
 * Step 6's part that both engines run as written: the channel of history events,
 * dedup keys per channel, and MantaGo's token pair kept per account.
 */
export const CHANNELS_AND_ACCOUNTS_COMMON = `
  -- The channel an event came in on (rules' when.channel, the history, /admin).
  ALTER TABLE history_events ADD COLUMN channel TEXT;
  UPDATE history_events SET channel = ${channelOfPlatform('platform')};

  -- Dedup keys are per channel now: "<channel>/<platform>:<event id>" (one page subscribed by two
  -- Meta apps is tagged in both apps' accounts). Keys of events already seen keep protecting against
  -- redeliveries: each gets the channel it came in on. A WhatsApp event may have come in on either
  -- Meta endpoint, so it is remembered for both.
  UPDATE seen_events SET key = 'line/' || key WHERE substr(key, 1, 5) = 'line:';
  UPDATE seen_events SET key = 'facebook/' || key WHERE substr(key, 1, 9) = 'facebook:' OR substr(key, 1, 10) = 'instagram:';
  INSERT INTO seen_events (key, seen_at) SELECT 'facebook/' || key, seen_at FROM seen_events WHERE substr(key, 1, 9) = 'whatsapp:';
  UPDATE seen_events SET key = 'whatsapp/' || key WHERE substr(key, 1, 9) = 'whatsapp:';

  -- MantaGo's token pair is kept per account; the single pair of earlier releases is the
  -- environment's account's, named "mantago", so an upgraded deployment keeps its refreshed pair.
  UPDATE settings SET key = 'mantago.credentials:mantago' WHERE key = 'mantago.credentials';
  UPDATE settings SET key = 'mantago.env-fingerprint:mantago' WHERE key = 'mantago.env-fingerprint';
`;

export const PERSON_SCOPE_NAME = 'desired state per person at the provider';

/**
 * Step 10, as both engines run it (with their own integer type): the platform's own time of
 * each event, beside its receipt, so the history can show why an older event changed nothing
 * (CONTRACT.md, "Order"). NULL for events stored before this step.
 */
export function historyEventTime(integer: 'INTEGER' | 'BIGINT'): Migration {
  return { version: 10, name: 'event time in the history', sql: `ALTER TABLE history_events ADD COLUMN event_at ${integer};` };
}

/**
 * Step 9's part that both engines run as written, once `person_scope` exists (holding ''):
 * the person as the provider identifies them (tag-operation.ts, `personScope`) — '' for
 * MantaGo (platform and user id), the recipient for BotBonnie (`bot_pid`). Rows that now
 * share an identity (one MantaGo user's tag asked for through two recipients) are one
 * desired state: the one set by the latest event stays (then the last updated, then the
 * newest row), the others go.
 */
export const PERSON_SCOPE_COMMON = `
  UPDATE operations SET person_scope = recipient WHERE provider = 'botbonnie';
  DELETE FROM operations WHERE id IN (
    SELECT id FROM (
      SELECT id, ROW_NUMBER() OVER (
        PARTITION BY account, provider, kind, tag_id, platform, person_scope, user_id
        ORDER BY event_at DESC, updated_at DESC, id DESC) AS n
      FROM operations) ranked
    WHERE n > 1);
`;

/**
 * Step 11, as both engines run it: each forward says whether it leads its key (sql/forwards.ts,
 * isForwardHead), so a claim reads the due heads of its destination only (forwards_due_heads),
 * and the calls in flight have their own index (forwards_leased), as operations do. The head of
 * every key that has forwards waiting is marked.
 */
export const FORWARD_HEADS: Migration = {
  version: 11,
  name: 'forward heads marked',
  sql: `
    ALTER TABLE forwards ADD COLUMN head INTEGER NOT NULL DEFAULT 0;
    UPDATE forwards SET head = 1 WHERE id IN (SELECT MIN(id) FROM forwards WHERE state = 'pending' GROUP BY destination, ordering_key);
    CREATE INDEX forwards_due_heads ON forwards (destination, due_at, id) WHERE state = 'pending' AND head = 1;
    CREATE INDEX forwards_leased ON forwards (destination, leased_until) WHERE state = 'pending' AND leased_until IS NOT NULL;
  `,
};

/**
 * Step 12, as both engines run it: until when calls to each provider account are paused by a
 * `Retry-After` (CONTRACT.md "Retries"), so that an instance that starts during the pause — or
 * the process that met it, restarted after a crash or a deploy — waits too (Store.sharePause).
 * An epoch time by the clock of the instance that met it; one row per account at most.
 */
export const ACCOUNT_PAUSES: Migration = {
  version: 12,
  name: 'account pauses kept',
  sql: `
    CREATE TABLE account_pauses (
      account TEXT PRIMARY KEY,
      paused_until BIGINT NOT NULL
    );
  `,
};

/**
 * Step 13, as both engines run it: each provider account's rate limit as its rate gate last
 * estimated it (Store.keepRateEstimate), so that a gate started later — the service restarted,
 * or another instance taking the account's caller role over — starts from it instead of
 * learning it again from two runs of 429s. One row per account at most; `estimated_at` is an
 * epoch time by the clock of the instance that estimated it.
 */
export const ACCOUNT_RATE_ESTIMATES: Migration = {
  version: 13,
  name: 'account rate estimates kept',
  sql: `
    CREATE TABLE account_rate_estimates (
      account TEXT PRIMARY KEY,
      rate DOUBLE PRECISION NOT NULL,
      burst DOUBLE PRECISION,
      confident INTEGER NOT NULL,
      pausing INTEGER NOT NULL,
      source TEXT NOT NULL,
      estimated_at BIGINT NOT NULL
    );
  `,
};
