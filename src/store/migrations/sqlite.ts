import type { Migration } from './migration';
import { ACTIVITY_MINUTES, ACTIVITY_MINUTES_NAME } from './activity';
import {
  ACCOUNT_PAUSES,
  ACCOUNT_RATE_ESTIMATES,
  channelOfPlatform,
  CHANNELS_AND_ACCOUNTS_COMMON,
  LEASE_HOLDER_COLUMNS,
  LEASE_HOLDERS_NAME,
  FORWARD_HEADS,
  historyEventTime,
  recipientAndDeadCodes,
} from './portable';
import { SQLITE_PERSON_SCOPE } from './sqlite-person-scope';

/** Schema steps of the embedded SQLite store. Times are milliseconds since the epoch. */
export const sqliteMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'queues, history and settings',
    sql: `
      -- Event ids seen, for de-duplication of redelivered webhooks.
      CREATE TABLE seen_events (
        key TEXT PRIMARY KEY,
        seen_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX seen_events_seen_at ON seen_events (seen_at);

      -- Desired tag state: one row per (provider, kind, tag, platform, channel, user).
      -- AUTOINCREMENT so an id shown as a dead letter (op-N) never names another row later.
      CREATE TABLE operations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        provider TEXT NOT NULL,
        kind TEXT NOT NULL,
        tag_id TEXT NOT NULL,
        platform TEXT NOT NULL,
        channel TEXT NOT NULL,
        user_id TEXT NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('add', 'remove')),
        version INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'done', 'dead')),
        due_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        not_found_count INTEGER NOT NULL DEFAULT 0,
        requested_at INTEGER NOT NULL,
        lease_owner TEXT,
        leased_until INTEGER,
        last_status INTEGER,
        last_error TEXT,
        last_body_excerpt TEXT,
        dead_reason TEXT,
        dead_at INTEGER,
        updated_at INTEGER NOT NULL,
        UNIQUE (provider, kind, tag_id, platform, channel, user_id)
      );
      CREATE INDEX operations_due ON operations (provider, due_at, id) WHERE state = 'pending';
      CREATE INDEX operations_dead ON operations (dead_at) WHERE state = 'dead';

      -- A webhook body, stored once however many destinations it goes to.
      CREATE TABLE forward_bodies (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        body BLOB NOT NULL,
        headers TEXT NOT NULL,
        received_at INTEGER NOT NULL
      );

      -- One forward per (webhook, destination). Done forwards are deleted.
      CREATE TABLE forwards (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        body_id INTEGER NOT NULL REFERENCES forward_bodies (id),
        destination TEXT NOT NULL,
        ordering_key TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'dead')),
        received_at INTEGER NOT NULL,
        due_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        lease_owner TEXT,
        leased_until INTEGER,
        last_status INTEGER,
        last_error TEXT,
        last_body_excerpt TEXT,
        dead_reason TEXT,
        dead_at INTEGER
      );
      CREATE INDEX forwards_heads ON forwards (destination, ordering_key, id) WHERE state = 'pending';
      CREATE INDEX forwards_body ON forwards (body_id);
      CREATE INDEX forwards_dead ON forwards (dead_at) WHERE state = 'dead';

      CREATE TABLE history_events (
        id INTEGER PRIMARY KEY,
        received_at INTEGER NOT NULL,
        platform TEXT NOT NULL,
        channel TEXT NOT NULL,
        user_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        type TEXT NOT NULL,
        text TEXT,
        postback_data TEXT,
        matched TEXT NOT NULL,
        operations TEXT NOT NULL
      );
      CREATE INDEX history_events_user ON history_events (user_id, id);
      CREATE INDEX history_events_received ON history_events (received_at);

      CREATE TABLE history_calls (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        user_id TEXT NOT NULL,
        operation TEXT NOT NULL,
        version INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        status INTEGER,
        error TEXT
      );
      CREATE INDEX history_calls_user ON history_calls (user_id, id);
      CREATE INDEX history_calls_at ON history_calls (at);

      CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'admin sessions',
    sql: `
      -- A logged-in /admin browser: logging out deletes its row, so a copied cookie stops working.
      -- The id is kept only as a SHA-256 hash (a leaked table opens no session); token_check is
      -- derived from ADMIN_TOKEN, so a session of an earlier token is never taken for one of the current.
      CREATE TABLE admin_sessions (
        id_hash TEXT PRIMARY KEY,
        token_check TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX admin_sessions_expires_at ON admin_sessions (expires_at);
    `,
  },
  recipientAndDeadCodes,
  {
    version: 4,
    name: 'event time and lifetimes on desired-state rows',
    sql: `
      -- The platform's time of the event that set the row: an older event changes nothing.
      -- Rows from before this step count as set when they were asked for.
      ALTER TABLE operations ADD COLUMN event_at INTEGER NOT NULL DEFAULT 0;
      UPDATE operations SET event_at = requested_at;
      -- For an add with a lifetime (for:): when it becomes a removal, and the rule that said so.
      ALTER TABLE operations ADD COLUMN expires_at INTEGER;
      ALTER TABLE operations ADD COLUMN expiry_rule TEXT;
      -- What the last accepted request did to the row (queued, retimed or touched), read back by the accept.
      ALTER TABLE operations ADD COLUMN accept_effect TEXT NOT NULL DEFAULT 'queued'
        CHECK (accept_effect IN ('queued', 'retimed', 'touched'));
      CREATE INDEX operations_expiry ON operations (provider, expires_at) WHERE expires_at IS NOT NULL;
      CREATE INDEX operations_expiring_user ON operations (user_id) WHERE expires_at IS NOT NULL;

      -- History entries that are not calls: why (older_event, arrived_expired, lifetime_ended), and the rule of a lifetime.
      ALTER TABLE history_calls ADD COLUMN cause TEXT;
      ALTER TABLE history_calls ADD COLUMN rule TEXT;
    `,
  },
  { version: 5, name: LEASE_HOLDERS_NAME, sql: LEASE_HOLDER_COLUMNS },
  {
    version: 6,
    name: 'channels and accounts',
    sql: `
      -- Desired tag state is per account: one row per (account, provider, kind, tag, platform, recipient, user),
      -- and each row remembers the channel of the event that asked for it. SQLite cannot change a
      -- table's UNIQUE constraint, so the table is rebuilt. Existing rows belong to the environment's
      -- account of their provider (named after it).
      CREATE TABLE operations_v6 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        account TEXT NOT NULL,
        channel TEXT NOT NULL,
        provider TEXT NOT NULL,
        kind TEXT NOT NULL,
        tag_id TEXT NOT NULL,
        platform TEXT NOT NULL,
        recipient TEXT NOT NULL,
        user_id TEXT NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('add', 'remove')),
        version INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'done', 'dead')),
        due_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        not_found_count INTEGER NOT NULL DEFAULT 0,
        requested_at INTEGER NOT NULL,
        lease_owner TEXT,
        leased_until INTEGER,
        last_status INTEGER,
        last_error TEXT,
        last_body_excerpt TEXT,
        dead_reason TEXT,
        dead_code TEXT,
        dead_at INTEGER,
        updated_at INTEGER NOT NULL,
        event_at INTEGER NOT NULL DEFAULT 0,
        expires_at INTEGER,
        expiry_rule TEXT,
        accept_effect TEXT NOT NULL DEFAULT 'queued' CHECK (accept_effect IN ('queued', 'retimed', 'touched')),
        lease_holder TEXT,
        call_deadline BIGINT,
        UNIQUE (account, provider, kind, tag_id, platform, recipient, user_id)
      );
      INSERT INTO operations_v6 (id, account, channel, provider, kind, tag_id, platform, recipient, user_id, action, version, state,
                                 due_at, attempts, not_found_count, requested_at, lease_owner, leased_until, last_status, last_error,
                                 last_body_excerpt, dead_reason, dead_code, dead_at, updated_at, event_at, expires_at, expiry_rule, accept_effect,
                                 lease_holder, call_deadline)
      SELECT id, provider, ${channelOfPlatform('platform')}, provider, kind, tag_id, platform, recipient, user_id, action, version, state,
             due_at, attempts, not_found_count, requested_at, lease_owner, leased_until, last_status, last_error,
             last_body_excerpt, dead_reason, dead_code, dead_at, updated_at, event_at, expires_at, expiry_rule, accept_effect,
             lease_holder, call_deadline
      FROM operations;
      -- AUTOINCREMENT's promise (an id shown as a dead letter never names another row later) survives the rebuild.
      INSERT INTO sqlite_sequence (name, seq)
        SELECT 'operations_v6', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'operations_v6');
      UPDATE sqlite_sequence SET seq = max(seq, COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'operations'), 0))
        WHERE name = 'operations_v6';
      DROP TABLE operations;
      ALTER TABLE operations_v6 RENAME TO operations;
      CREATE INDEX operations_due ON operations (account, due_at, id) WHERE state = 'pending';
      CREATE INDEX operations_dead ON operations (dead_at) WHERE state = 'dead';
      CREATE INDEX operations_expiry ON operations (account, expires_at) WHERE expires_at IS NOT NULL;
      CREATE INDEX operations_expiring_user ON operations (user_id) WHERE expires_at IS NOT NULL;
      ${CHANNELS_AND_ACCOUNTS_COMMON}
    `,
  },
  { version: 7, name: ACTIVITY_MINUTES_NAME, sql: ACTIVITY_MINUTES },
  {
    version: 8,
    name: 'leased rows indexed',
    sql: `
      -- The calls in flight, found without reading the backlog (sql/views.ts, nextDueStatements).
      CREATE INDEX operations_leased ON operations (account, leased_until) WHERE state = 'pending' AND leased_until IS NOT NULL;
    `,
  },
  SQLITE_PERSON_SCOPE,
  historyEventTime('INTEGER'),
  FORWARD_HEADS,
  ACCOUNT_PAUSES,
  ACCOUNT_RATE_ESTIMATES,
];
