import type { Migration } from './migration';
import { PERSON_SCOPE_COMMON, PERSON_SCOPE_NAME } from './portable';

/** SQLite store step 9 (in a file of its own: the rebuild of the operations table is long). */
export const SQLITE_PERSON_SCOPE: Migration = {
  version: 9,
  name: PERSON_SCOPE_NAME,
  sql: `
    -- Desired tag state is per person as the provider identifies them (CONTRACT.md, "Order"):
    -- one row per (account, provider, kind, tag, platform, person scope, user); the recipient
    -- is the latest event's. SQLite cannot change a table's UNIQUE constraint, so the table is
    -- rebuilt once the rows that now share an identity are one.
    ALTER TABLE operations ADD COLUMN person_scope TEXT NOT NULL DEFAULT '';
    ${PERSON_SCOPE_COMMON}
    CREATE TABLE operations_v9 (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      account TEXT NOT NULL,
      channel TEXT NOT NULL,
      provider TEXT NOT NULL,
      kind TEXT NOT NULL,
      tag_id TEXT NOT NULL,
      platform TEXT NOT NULL,
      person_scope TEXT NOT NULL,
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
      UNIQUE (account, provider, kind, tag_id, platform, person_scope, user_id)
    );
    INSERT INTO operations_v9 (id, account, channel, provider, kind, tag_id, platform, person_scope, recipient, user_id, action, version, state,
                               due_at, attempts, not_found_count, requested_at, lease_owner, leased_until, last_status, last_error,
                               last_body_excerpt, dead_reason, dead_code, dead_at, updated_at, event_at, expires_at, expiry_rule, accept_effect,
                               lease_holder, call_deadline)
    SELECT id, account, channel, provider, kind, tag_id, platform, person_scope, recipient, user_id, action, version, state,
           due_at, attempts, not_found_count, requested_at, lease_owner, leased_until, last_status, last_error,
           last_body_excerpt, dead_reason, dead_code, dead_at, updated_at, event_at, expires_at, expiry_rule, accept_effect,
           lease_holder, call_deadline
    FROM operations;
    -- AUTOINCREMENT's promise (an id shown as a dead letter never names another row later) survives the rebuild.
    INSERT INTO sqlite_sequence (name, seq)
      SELECT 'operations_v9', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'operations_v9');
    UPDATE sqlite_sequence SET seq = max(seq, COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'operations'), 0))
      WHERE name = 'operations_v9';
    DROP TABLE operations;
    ALTER TABLE operations_v9 RENAME TO operations;
    CREATE INDEX operations_due ON operations (account, due_at, id) WHERE state = 'pending';
    CREATE INDEX operations_dead ON operations (dead_at) WHERE state = 'dead';
    CREATE INDEX operations_expiry ON operations (account, expires_at) WHERE expires_at IS NOT NULL;
    CREATE INDEX operations_expiring_user ON operations (user_id) WHERE expires_at IS NOT NULL;
    CREATE INDEX operations_leased ON operations (account, leased_until) WHERE state = 'pending' AND leased_until IS NOT NULL;
  `,
};
