import { ACTIVITY_MINUTES, ACTIVITY_MINUTES_NAME } from './activity';
import type { Migration } from './migration';
import {
  ACCOUNT_PAUSES,
  ACCOUNT_RATE_ESTIMATES,
  channelOfPlatform,
  CHANNELS_AND_ACCOUNTS_COMMON,
  LEASE_HOLDER_COLUMNS,
  LEASE_HOLDERS_NAME,
  PERSON_SCOPE_COMMON,
  PERSON_SCOPE_NAME,
  FORWARD_HEADS,
  historyEventTime,
  recipientAndDeadCodes,
} from './portable';

/**
 * Schema steps of the PostgreSQL store. Unqualified names: every object lands in
 * the first schema of the connection's search_path (the store's `schema` option).
 * Times are milliseconds since the epoch (BIGINT).
 */
export const postgresMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'queues, history and settings',
    sql: `
      CREATE TABLE seen_events (
        key TEXT PRIMARY KEY,
        seen_at BIGINT NOT NULL
      );
      CREATE INDEX seen_events_seen_at ON seen_events (seen_at);

      CREATE TABLE operations (
        id BIGSERIAL PRIMARY KEY,
        provider TEXT NOT NULL,
        kind TEXT NOT NULL,
        tag_id TEXT NOT NULL,
        platform TEXT NOT NULL,
        channel TEXT NOT NULL,
        user_id TEXT NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('add', 'remove')),
        version INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'done', 'dead')),
        due_at BIGINT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        not_found_count INTEGER NOT NULL DEFAULT 0,
        requested_at BIGINT NOT NULL,
        lease_owner TEXT,
        leased_until BIGINT,
        last_status INTEGER,
        last_error TEXT,
        last_body_excerpt TEXT,
        dead_reason TEXT,
        dead_at BIGINT,
        updated_at BIGINT NOT NULL,
        UNIQUE (provider, kind, tag_id, platform, channel, user_id)
      );
      CREATE INDEX operations_due ON operations (provider, due_at, id) WHERE state = 'pending';
      CREATE INDEX operations_dead ON operations (dead_at) WHERE state = 'dead';

      CREATE TABLE forward_bodies (
        id BIGSERIAL PRIMARY KEY,
        body BYTEA NOT NULL,
        headers TEXT NOT NULL,
        received_at BIGINT NOT NULL
      );

      CREATE TABLE forwards (
        id BIGSERIAL PRIMARY KEY,
        body_id BIGINT NOT NULL REFERENCES forward_bodies (id),
        destination TEXT NOT NULL,
        ordering_key TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'dead')),
        received_at BIGINT NOT NULL,
        due_at BIGINT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        lease_owner TEXT,
        leased_until BIGINT,
        last_status INTEGER,
        last_error TEXT,
        last_body_excerpt TEXT,
        dead_reason TEXT,
        dead_at BIGINT
      );
      CREATE INDEX forwards_heads ON forwards (destination, ordering_key, id) WHERE state = 'pending';
      CREATE INDEX forwards_body ON forwards (body_id);
      CREATE INDEX forwards_dead ON forwards (dead_at) WHERE state = 'dead';

      CREATE TABLE history_events (
        id BIGSERIAL PRIMARY KEY,
        received_at BIGINT NOT NULL,
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
        id BIGSERIAL PRIMARY KEY,
        at BIGINT NOT NULL,
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
        updated_at BIGINT NOT NULL
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
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
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
      ALTER TABLE operations ADD COLUMN event_at BIGINT;
      UPDATE operations SET event_at = requested_at;
      ALTER TABLE operations ALTER COLUMN event_at SET NOT NULL;
      -- For an add with a lifetime (for:): when it becomes a removal, and the rule that said so.
      ALTER TABLE operations ADD COLUMN expires_at BIGINT;
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
  {
    version: 5,
    name: LEASE_HOLDERS_NAME,
    sql: `${LEASE_HOLDER_COLUMNS}
      -- The instances serving this schema now. Each holds a session advisory lock on its id
      -- while it runs; an instance that can take another's lock deletes that one's row, and a
      -- lease whose holder has no row here comes back at its call deadline (postgres/liveness.ts).
      CREATE TABLE instances (
        id TEXT PRIMARY KEY,
        started_at BIGINT NOT NULL
      );
    `,
  },
  {
    version: 6,
    name: 'channels and accounts',
    sql: `
      -- Desired tag state is per account: one row per (account, provider, kind, tag, platform, recipient, user),
      -- and each row remembers the channel of the event that asked for it. Existing rows belong to the
      -- environment's account of their provider (named after it).
      ALTER TABLE operations ADD COLUMN account TEXT;
      ALTER TABLE operations ADD COLUMN channel TEXT;
      UPDATE operations SET account = provider, channel = ${channelOfPlatform('platform')};
      ALTER TABLE operations ALTER COLUMN account SET NOT NULL, ALTER COLUMN channel SET NOT NULL;
      -- The old identity's constraint was named by PostgreSQL (after the columns it had then).
      DO $$
      DECLARE c TEXT;
      BEGIN
        FOR c IN SELECT conname FROM pg_constraint WHERE conrelid = 'operations'::regclass AND contype = 'u' LOOP
          EXECUTE format('ALTER TABLE operations DROP CONSTRAINT %I', c);
        END LOOP;
      END $$;
      ALTER TABLE operations ADD CONSTRAINT operations_identity UNIQUE (account, provider, kind, tag_id, platform, recipient, user_id);
      DROP INDEX operations_due;
      CREATE INDEX operations_due ON operations (account, due_at, id) WHERE state = 'pending';
      -- Lifetimes end per account now (each account's worker turns its own into removals).
      DROP INDEX operations_expiry;
      CREATE INDEX operations_expiry ON operations (account, expires_at) WHERE expires_at IS NOT NULL;
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
  {
    version: 9,
    name: PERSON_SCOPE_NAME,
    sql: `
      -- Desired tag state is per person as the provider identifies them (CONTRACT.md, "Order"):
      -- one row per (account, provider, kind, tag, platform, person scope, user); the recipient
      -- is the latest event's. The column is filled, the rows that now share an identity are
      -- made one, then the identity constraint (named by step 6) is replaced.
      ALTER TABLE operations ADD COLUMN person_scope TEXT NOT NULL DEFAULT '';
      ${PERSON_SCOPE_COMMON}
      ALTER TABLE operations ALTER COLUMN person_scope DROP DEFAULT;
      ALTER TABLE operations DROP CONSTRAINT operations_identity;
      ALTER TABLE operations ADD CONSTRAINT operations_identity UNIQUE (account, provider, kind, tag_id, platform, person_scope, user_id);
    `,
  },
  historyEventTime('BIGINT'),
  FORWARD_HEADS,
  ACCOUNT_PAUSES,
  ACCOUNT_RATE_ESTIMATES,
];
