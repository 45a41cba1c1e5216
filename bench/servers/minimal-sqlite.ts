/**
 * Baseline: the minimal durable server on SQLite — bare node:http, verify, JSON.parse,
 * then better-sqlite3 group commit: the webhooks of one event-loop turn in ONE
 * transaction (WAL, synchronous=FULL), each event inserting its id (a duplicate is
 * skipped) and upserting one desired-state row for its user; 200 after the commit.
 * No rules, history, forwards, metrics or logs: what durability alone costs.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from '../../src/store/sqlite/driver';
import { answer, lineEvents, listenBare, perTurnBatches } from '../lib/bare-http';
import { runChild } from '../lib/run-child';

runChild(async () => {
  const secret = process.env.LINE_CHANNEL_SECRET;
  const dataDir = process.env.DATA_DIR;
  if (!secret || !dataDir) throw new Error('minimal-sqlite server: LINE_CHANNEL_SECRET and DATA_DIR must be set');
  fs.mkdirSync(dataDir, { recursive: true });
  const db = new Database(path.join(dataDir, 'minimal.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`
    CREATE TABLE IF NOT EXISTS seen_events (key TEXT PRIMARY KEY, seen_at INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS desired (
      id INTEGER PRIMARY KEY, user_id TEXT NOT NULL, tag_id TEXT NOT NULL, action TEXT NOT NULL,
      version INTEGER NOT NULL, state TEXT NOT NULL, due_at INTEGER NOT NULL, UNIQUE (user_id, tag_id));
    CREATE INDEX IF NOT EXISTS desired_due ON desired (due_at) WHERE state = 'pending';`);
  const seen = db.prepare('INSERT INTO seen_events (key, seen_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING');
  const upsert = db.prepare(`
    INSERT INTO desired (user_id, tag_id, action, version, state, due_at) VALUES (?, 'tag-coupon', 'add', 1, 'pending', ?)
    ON CONFLICT (user_id, tag_id) DO UPDATE SET version = version + 1, state = 'pending', due_at = excluded.due_at`);
  const write = db.transaction((items: { webhookEventId: string; userId: string }[][]) => {
    const now = Date.now();
    for (const events of items) for (const e of events) if (seen.run(e.webhookEventId, now).changes > 0) upsert.run(e.userId, now);
  });
  const submit = perTurnBatches<{ webhookEventId: string; userId: string }[]>(async (items) => void write.immediate(items));
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
    async () => void db.close(),
  );
});
