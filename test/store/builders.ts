import type { ChatEvent } from '../../src/chat-event';
import type { TagLifetime, TagOperation } from '../../src/tag-operation';
import type { AcceptBatch, AcceptedEvent, ForwardRequest, Store } from '../../src/store/store';

/** Small builders for store tests: a LINE user U1 writing to recipient C1 unless told otherwise. */

export function tagOp(over: Partial<TagOperation> = {}): TagOperation {
  return {
    action: 'add',
    provider: 'mantago',
    kind: 'personal',
    tagId: 'tag-1',
    platform: 'line',
    recipient: 'C1',
    userId: 'U1',
    ...over,
  };
}

export function chatEvent(eventId: string, over: Partial<ChatEvent> = {}): ChatEvent {
  return {
    platform: 'line',
    channel: 'line',
    recipient: 'C1',
    userId: 'U1',
    kind: 'message',
    type: 'message/text',
    text: 'coupon please',
    eventId,
    timestamp: 1_700_000_000_000,
    isRedelivery: false,
    ...over,
  };
}

export function accepted(
  eventId: string,
  operations: TagOperation[] = [tagOp()],
  over: { event?: Partial<ChatEvent>; matched?: string[] } = {},
): AcceptedEvent {
  const event = chatEvent(eventId, over.event);
  return { dedupKey: `${event.platform}:${eventId}`, event, matched: over.matched ?? ['coupon'], operations };
}

export function forwardTo(destination: string, orderingKey = 'U1', body = Buffer.from('{"events":[]}')): ForwardRequest {
  return { destination, orderingKey, body, headers: { 'content-type': 'application/json', 'x-line-signature': 'c2lnbmF0dXJl' } };
}

export function batch(now: number, events: AcceptedEvent[], forwards: ForwardRequest[] = [], storeText = false): AcceptBatch {
  return { now, events, forwards, storeText };
}

/** Accepts one event asking for `op` (a fresh event id each time). */
let seq = 0;
export async function ask(store: Store, now: number, op: Partial<TagOperation> = {}): Promise<number> {
  const r = await store.accept(batch(now, [accepted(`ask-${++seq}-${now}`, [tagOp(op)])]));
  return r.operationsQueued;
}

/**
 * Accepts one event of time `at` (the platform's timestamp), received at `now`, asking
 * for `op`; returns how many rows it queued or changed for the worker.
 */
export async function askAt(store: Store, times: { now: number; at: number }, op: Partial<TagOperation> = {}): Promise<number> {
  const r = await store.accept(batch(times.now, [accepted(`at-${++seq}-${times.at}`, [tagOp(op)], { event: { timestamp: times.at } })]));
  return r.operationsQueued;
}

/** A `for:` of `ms` milliseconds, as the rule `rule` would give it. */
export function lifetime(ms: number, rule = 'trial'): TagLifetime {
  return { ms, text: `${ms / 1000}s`, rule };
}

/** A promise with its resolve function outside, for tests that wait on events. */
export function deferred<T = void>(): { promise: Promise<T>; resolve(v: T): void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
