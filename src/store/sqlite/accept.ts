import type { AcceptBatch, AcceptResult } from '../store';
import {
  arrivedExpired, decisionRow, rememberedFrom, groupForwardBodies, historyRowOf, operationColumns, operationRequest,
  type DecisionRow, type HistoryEventRow, type OperationRequest,
} from '../shared/accept-rows';
import { num, str } from '../shared/rows';
import { INSERT_HISTORY_DECISION, OPERATION_INSERT_COLUMNS, UPSERT_OPERATION_ON_CONFLICT, wakesWorker, type AcceptEffect } from '../sql/operations';
import type { SqliteDb, SqlValue } from './db';

export const INSERT_SEEN = `INSERT INTO seen_events (key, seen_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`;

export const INSERT_HISTORY_EVENT = `
  INSERT INTO history_events (received_at, platform, channel, recipient, user_id, event_id, kind, type, text, postback_data, matched, operations, event_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`;

/** RETURNING yields no row when the row was set by a later event (see UPSERT_OPERATION_ON_CONFLICT). */
export const UPSERT_OPERATION = `
  INSERT INTO operations (${OPERATION_INSERT_COLUMNS})
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, 'pending', $11, 0, 0, $11, $11, $12, $13, $14, 'queued')
  ${UPSERT_OPERATION_ON_CONFLICT}
  RETURNING accept_effect`;

const INSERT_BODY = `INSERT INTO forward_bodies (body, headers, received_at) VALUES ($1, $2, $3) RETURNING id`;

/** The head of its key (see sql/forwards.ts, isForwardHead) when none of its key waits. */
const INSERT_FORWARD = `
  INSERT INTO forwards (body_id, destination, ordering_key, state, received_at, due_at, attempts, head)
  VALUES ($1, $2, $3, 'pending', $4, $4, 0, NOT EXISTS (SELECT 1 FROM forwards WHERE destination = $2 AND ordering_key = $3 AND state = 'pending'))`;

/** INSERT_HISTORY_EVENT's parameters for one row. */
export function historyEventParams(h: HistoryEventRow): SqlValue[] {
  return [h.receivedAt, h.platform, h.channel, h.recipient, h.userId, h.eventId, h.kind, h.type, h.text, h.postbackData, h.matched, h.operations, h.eventAt];
}

/** UPSERT_OPERATION's parameters for one operation accepted at `now`. */
export function upsertOperationParams(r: OperationRequest, now: number): SqlValue[] {
  return [...operationColumns(r.op), r.op.action, now, r.eventAt, r.expiresAt, r.rule];
}

function recordDecision(db: SqliteDb, d: DecisionRow): void {
  db.run(INSERT_HISTORY_DECISION, [d.at, d.userId, d.operation, d.version, d.outcome, d.cause, d.rule]);
}

/** Writes webhooks in order, each seeing the ones before it (one webhook may coalesce into another). Call inside a transaction. */
export function acceptBatchesSqlite(db: SqliteDb, batches: readonly AcceptBatch[]): AcceptResult[] {
  return batches.map((batch) => {
    const result: AcceptResult = { accepted: 0, newEvents: [], duplicates: 0, operationsQueued: 0, forwardsQueued: 0 };
    for (const [index, e] of batch.events.entries()) {
      if (db.run(INSERT_SEEN, [e.dedupKey, rememberedFrom(e, batch.now)]) === 0) {
        result.duplicates++;
        continue;
      }
      result.accepted++;
      result.newEvents.push(index);
      const h = historyRowOf(e, batch.now, batch.storeText);
      if (h) db.run(INSERT_HISTORY_EVENT, historyEventParams(h));
      for (const op of e.operations) {
        const r = operationRequest(op, e, batch.now);
        if (arrivedExpired(r, batch.now)) {
          recordDecision(db, decisionRow(r, 'arrived_expired', batch.now));
          continue;
        }
        const [row] = db.all(UPSERT_OPERATION, upsertOperationParams(r, batch.now));
        if (!row) recordDecision(db, decisionRow(r, 'older_event', batch.now));
        else if (wakesWorker(str(row.accept_effect, 'accept_effect') as AcceptEffect)) result.operationsQueued++;
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
