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
