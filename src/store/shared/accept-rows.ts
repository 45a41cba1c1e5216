import { personScope, type TagOperation } from '../../tag-operation';
import type { AcceptedEvent, ForwardRequest, HistoryCall, HistoryCause } from '../store';
import { storableText } from './storable-text';

/** The values of one history_events row, in the column order of the INSERT statements. */
export interface HistoryEventRow {
  receivedAt: number;
  platform: string;
  channel: string;
  recipient: string;
  userId: string;
  eventId: string;
  kind: string;
  type: string;
  text: string | null;
  postbackData: string | null;
  matched: string;
  operations: string;
  /** The platform's own time of the event, as it sent it (a time in the future too); null when it sent none that reads as one. */
  eventAt: number | null;
}

/** History keeps events that have a user (a timeline is per user); text only when asked to. */
export function historyRowOf(e: AcceptedEvent, receivedAt: number, storeText: boolean): HistoryEventRow | undefined {
  const ev = e.event;
  if (ev.userId === undefined) return undefined;
  return {
    receivedAt,
    platform: ev.platform,
    channel: ev.channel,
    recipient: ev.recipient,
    userId: ev.userId,
    eventId: ev.eventId,
    kind: ev.kind,
    type: ev.type,
    text: storeText && ev.text !== undefined ? ev.text : null,
    postbackData: ev.postbackData ?? null,
    matched: JSON.stringify(e.matched),
    operations: JSON.stringify(e.operations),
    eventAt: Number.isFinite(ev.timestamp) ? ev.timestamp : null,
  };
}

/**
 * When an event's id starts to be remembered (seen_events.seen_at; ids are pruned 8 days
 * after it): its receipt, or its own time when that is later. An event time in the future
 * counts as the receipt for what the event does, but a redelivery is only refused as too
 * old 8 days after the event's own time, so its id must be kept that long too (CONTRACT.md,
 * "Once"), else a future-dated event replayed 8 days after its first receipt would apply again.
 */
export function rememberedFrom(e: AcceptedEvent, receivedAt: number): number {
  const t = e.event.timestamp;
  return Number.isFinite(t) && t > receivedAt ? t : receivedAt;
}

/** One operation as the accept writes it: as of its event's time, with the end of its lifetime. */
export interface OperationRequest {
  op: TagOperation;
  /** The event's time; a time in the future counts as the receipt (CONTRACT.md, "What an event becomes"). */
  eventAt: number;
  /** For an add with a lifetime: event time + lifetime, when it becomes a removal; else null. */
  expiresAt: number | null;
  /** The rule whose `for:` set `expiresAt`. */
  rule: string | null;
}

export function operationRequest(op: TagOperation, e: AcceptedEvent, receivedAt: number): OperationRequest {
  const eventAt = Math.min(e.event.timestamp, receivedAt);
  const lifetime = op.action === 'add' ? op.lifetime : undefined;
  return { op, eventAt, expiresAt: lifetime ? eventAt + lifetime.ms : null, rule: lifetime?.rule ?? null };
}

/** An add whose lifetime ran out before it arrived (a late redelivery) changes nothing (CONTRACT.md, "Lifetimes"). */
export function arrivedExpired(r: OperationRequest, receivedAt: number): boolean {
  return r.expiresAt !== null && r.expiresAt <= receivedAt;
}

/** A history entry the store records in place of a change, in the column order of INSERT_HISTORY_DECISION. */
export interface DecisionRow {
  at: number;
  userId: string;
  operation: string;
  /** 0: no version was asked for. */
  version: number;
  outcome: Extract<HistoryCall['outcome'], 'superseded' | 'expired'>;
  cause: HistoryCause;
  rule: string | null;
}

/** Why an accepted request changed nothing: its event is older than the row's, or its lifetime had run out. */
export function decisionRow(r: OperationRequest, cause: 'older_event' | 'arrived_expired', receivedAt: number): DecisionRow {
  return {
    at: receivedAt,
    userId: r.op.userId,
    operation: JSON.stringify(r.op),
    version: 0,
    outcome: cause === 'older_event' ? 'superseded' : 'expired',
    cause,
    rule: cause === 'arrived_expired' ? r.rule : null,
  };
}

/** The unique-key columns of an operation row, in schema order, then its recipient and channel (OPERATION_INSERT_COLUMNS' order). */
export function operationColumns(op: TagOperation): [string, string, string, string, string, string, string, string, string] {
  return [op.account, op.provider, op.kind, op.tagId, op.platform, personScope(op), op.userId, op.recipient, op.channel];
}

/** One stored body and the forwards (one per destination) that send it. */
export interface BodyGroup {
  body: Buffer;
  headers: string;
  forwards: ForwardRequest[];
}

/**
 * A webhook goes to every destination with the same bytes: the body is stored once
 * and every forward points at it (a 4 MB Meta batch is not copied per destination).
 */
export function groupForwardBodies(forwards: ForwardRequest[]): BodyGroup[] {
  const groups: BodyGroup[] = [];
  for (const f of forwards) {
    const headers = JSON.stringify(f.headers);
    const same = groups.find((g) => g.headers === headers && (g.body === f.body || g.body.equals(f.body)));
    if (same) same.forwards.push(f);
    else groups.push({ body: f.body, headers, forwards: [f] });
  }
  return groups;
}

const EXCERPT_CHARS = 500;
const ERROR_CHARS = 1000;

function clip(s: string | undefined, max: number): string | null {
  if (s === undefined) return null;
  // A remote answer may hold anything, U+0000 too.
  return storableText(s.length > max ? `${s.slice(0, max)}…` : s);
}

/** An attempt's outcome as stored: bounded in size whatever the remote answered. */
export function outcomeColumns(o: { status?: number; error?: string; bodyExcerpt?: string }): {
  status: number | null;
  error: string | null;
  excerpt: string | null;
} {
  return {
    status: o.status ?? null,
    error: clip(o.error, ERROR_CHARS),
    excerpt: clip(o.bodyExcerpt, EXCERPT_CHARS),
  };
}

export function clipReason(reason: string): string {
  return clip(reason, ERROR_CHARS) ?? '';
}

/** Whether an attempt was actually made (a dead letter for a missing token is not one). */
export function wasAttempt(o: { status?: number; error?: string }): boolean {
  return o.status !== undefined || o.error !== undefined;
}
