import type { AcceptBatch, AcceptResult } from '../store';
import { groupForwardBodies, historyRowOf, operationColumns } from '../shared/accept-rows';
import { num } from '../shared/rows';
import { UPSERT_OPERATION_ON_CONFLICT } from '../sql/operations';
import type { SqliteDb } from './db';

const INSERT_SEEN = `INSERT INTO seen_events (key, seen_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`;

const INSERT_HISTORY_EVENT = `
  INSERT INTO history_events (received_at, platform, channel, recipient, user_id, event_id, kind, type, text, postback_data, matched, operations)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`;

/** RETURNING yields a row only when the upsert inserted or changed something. */
const UPSERT_OPERATION = `
  INSERT INTO operations (account, provider, kind, tag_id, platform, recipient, user_id, channel, action, version, state,
                          due_at, attempts, not_found_count, requested_at, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, 'pending', $10, 0, 0, $10, $10)
  ${UPSERT_OPERATION_ON_CONFLICT}
  RETURNING id`;

const INSERT_BODY = `INSERT INTO forward_bodies (body, headers, received_at) VALUES ($1, $2, $3) RETURNING id`;

const INSERT_FORWARD = `
  INSERT INTO forwards (body_id, destination, ordering_key, state, received_at, due_at, attempts)
  VALUES ($1, $2, $3, 'pending', $4, $4, 0)`;

/** Writes webhooks in order, each seeing the ones before it (one webhook may coalesce into another). Call inside a transaction. */
export function acceptBatchesSqlite(db: SqliteDb, batches: readonly AcceptBatch[]): AcceptResult[] {
  return batches.map((batch) => {
    const result: AcceptResult = { accepted: 0, duplicates: 0, operationsQueued: 0, forwardsQueued: 0 };
    for (const e of batch.events) {
      if (db.run(INSERT_SEEN, [e.dedupKey, batch.now]) === 0) {
        result.duplicates++;
        continue;
      }
      result.accepted++;
      const h = historyRowOf(e, batch.now, batch.storeText);
      if (h) {
        db.run(INSERT_HISTORY_EVENT, [
          h.receivedAt, h.platform, h.channel, h.recipient, h.userId, h.eventId, h.kind, h.type, h.text, h.postbackData, h.matched, h.operations,
        ]);
      }
      for (const op of e.operations) {
        const changed = db.all(UPSERT_OPERATION, [...operationColumns(op), op.action, batch.now]);
        result.operationsQueued += changed.length;
      }
    }
    for (const group of groupForwardBodies(batch.forwards)) {
      const [body] = db.all(INSERT_BODY, [group.body, group.headers, batch.now]);
      const bodyId = num(body?.id, 'forward_bodies.id');
      for (const f of group.forwards) {
        db.run(INSERT_FORWARD, [bodyId, f.destination, f.orderingKey, batch.now]);
        result.forwardsQueued++;
      }
    }
    return result;
  });
}
