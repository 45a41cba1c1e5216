import type { AcceptBatch, AcceptedEvent } from '../store';

/*
 * PostgreSQL's text cannot hold U+0000 (`invalid byte sequence for encoding "UTF8": 0x00`),
 * and SQLite's own functions stop at it. Anything a platform sends is data (CONTRACT.md,
 * "What an event becomes"), so before a value reaches either engine every NUL is written
 * as the six characters `\u0000` — the same in both engines, and readable in the history.
 * Other control characters are stored as they are: both engines keep them intact.
 */

const NUL = /\u0000/g;

/** `s` as both engines can store it in a text column. */
export function storableText(s: string): string {
  return s.includes('\u0000') ? s.replace(NUL, '\\u0000') : s;
}

function storableOptional(s: string | undefined): string | undefined {
  return s === undefined ? undefined : storableText(s);
}

function storableEvent(e: AcceptedEvent): AcceptedEvent {
  const ev = e.event;
  return {
    dedupKey: storableText(e.dedupKey),
    matched: e.matched.map(storableText),
    event: {
      ...ev,
      channel: storableText(ev.channel),
      recipient: storableText(ev.recipient),
      userId: storableOptional(ev.userId),
      type: storableText(ev.type),
      text: storableOptional(ev.text),
      postbackData: storableOptional(ev.postbackData),
      eventId: storableText(ev.eventId),
    },
    operations: e.operations.map((op) => ({ ...op, tagId: storableText(op.tagId), recipient: storableText(op.recipient), userId: storableText(op.userId), channel: storableText(op.channel) })),
  };
}

/** A webhook's batch with every text value storable (forward bodies are bytes and stay as they are). */
export function storableBatch(batch: AcceptBatch): AcceptBatch {
  return {
    ...batch,
    events: batch.events.map(storableEvent),
    forwards: batch.forwards.map((f) => ({
      ...f,
      orderingKey: storableText(f.orderingKey),
      headers: Object.fromEntries(Object.entries(f.headers).map(([k, v]) => [storableText(k), storableText(v)])),
    })),
  };
}
