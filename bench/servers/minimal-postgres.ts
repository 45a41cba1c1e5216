/**
 * Baseline: the minimal durable server on PostgreSQL — bare node:http, verify,
 * JSON.parse, then the webhooks of one event-loop turn in ONE transaction (one
 * statement: insert the event ids, upsert one desired-state row per new event) on one
 * connection; the next turn's webhooks collect while it commits; 200 after the commit.
 * DATABASE_URL and DATABASE_SCHEMA (created here) say where.
 */
import pg from 'pg';
import { answer, lineEvents, listenBare, perTurnBatches } from '../lib/bare-http';
import { runChild } from '../lib/run-child';

const ACCEPT = `
  WITH fresh AS (
    INSERT INTO seen_events (key, seen_at) SELECT k, $3 FROM unnest($1::text[]) AS k
    ON CONFLICT (key) DO NOTHING RETURNING key
  )
  INSERT INTO desired (user_id, tag_id, action, version, state, due_at)
  SELECT x.u, 'tag-coupon', 'add', 1, 'pending', $3 FROM unnest($1::text[], $2::text[]) AS x(k, u)
  WHERE x.k IN (SELECT key FROM fresh)
  ORDER BY x.u
  ON CONFLICT (user_id, tag_id) DO UPDATE SET version = desired.version + 1, state = 'pending', due_at = excluded.due_at`;

runChild(async () => {
  const secret = process.env.LINE_CHANNEL_SECRET;
  const url = process.env.DATABASE_URL;
  const schema = process.env.DATABASE_SCHEMA;
  if (!secret || !url || !schema) throw new Error('minimal-postgres server: LINE_CHANNEL_SECRET, DATABASE_URL and DATABASE_SCHEMA must be set');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const quoted = `"${schema.replace(/"/g, '""')}"`;
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}; SET search_path TO ${quoted}`);
  await client.query(`
    CREATE TABLE IF NOT EXISTS seen_events (key TEXT PRIMARY KEY, seen_at BIGINT NOT NULL);
    CREATE TABLE IF NOT EXISTS desired (
      id BIGSERIAL PRIMARY KEY, user_id TEXT NOT NULL, tag_id TEXT NOT NULL, action TEXT NOT NULL,
      version INTEGER NOT NULL, state TEXT NOT NULL, due_at BIGINT NOT NULL, UNIQUE (user_id, tag_id));
    CREATE INDEX IF NOT EXISTS desired_due ON desired (due_at) WHERE state = 'pending';`);
  const submit = perTurnBatches<{ webhookEventId: string; userId: string }[]>(async (items) => {
    const events = items.flat();
    if (events.length === 0) return;
    await client.query({ name: 'accept', text: ACCEPT, values: [events.map((e) => e.webhookEventId), events.map((e) => e.userId), Date.now()] });
  });
  return listenBare(
    secret,
    (body, res) => {
      let events;
      try {
        events = lineEvents(body);
      } catch {
        answer(res, 400);
        return;
      }
      submit(events).then(() => answer(res, 200), () => answer(res, 503));
    },
    async () => client.end(),
  );
});
