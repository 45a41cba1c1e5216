import { isoTime } from '../format-time';
import type { HistoryCall, HistoryEvent } from '../store/store';

/**
 * What the history says about time (CONTRACT.md, "Order" and "Lifetimes"), written once
 * for the CLI and /admin: the stored cause is a code, these are its sentences.
 */

/** Why an entry that is not a call changed nothing, or what it did; undefined for calls. */
export function causeSentence(c: Pick<HistoryCall, 'cause' | 'rule'>): string | undefined {
  switch (c.cause) {
    case 'older_event':
      return 'an event newer than this one (by its time) had already set this tag: nothing to do';
    case 'arrived_expired':
      return `its lifetime${c.rule ? ` (rule ${c.rule})` : ''} had run out when it arrived: nothing to do`;
    case 'lifetime_ended':
      return `the lifetime set by rule ${c.rule ?? '(unknown)'} ended: the tag is removed`;
    case undefined:
      return undefined;
  }
}

/**
 * The platform's time of an event, when it is worth showing beside its receipt: a second
 * or more apart (a redelivery, a retry, a clock ahead). Order and lifetimes go by this
 * time, so it is what explains an event that changed nothing. Undefined otherwise, and for
 * events stored before the history kept it.
 *
 * A time in whole seconds (WhatsApp dates its messages so) may stand for any moment of that
 * second: a message sent at 16.9 s, dated 16 s and received at 17.1 s is 0.2 s old, not 1.1 s,
 * so it is measured from the end of its second — else a good part of all WhatsApp messages,
 * delivered at once, would read as late.
 */
export function datedApart(e: Pick<HistoryEvent, 'eventAt' | 'receivedAt'>): number | undefined {
  if (e.eventAt === undefined) return undefined;
  const latest = e.eventAt % 1000 === 0 ? e.eventAt + 999 : e.eventAt;
  const apart = e.receivedAt >= e.eventAt ? e.receivedAt - latest : e.eventAt - e.receivedAt;
  return apart >= 1000 ? e.eventAt : undefined;
}

/** A provider account paused by a tag API's `Retry-After` (StoreStatus.pauses). */
export function pausedAccount(account: string, until: number): string {
  return `calls to ${account} paused until ${isoTime(until)} (its tag API answered with Retry-After)`;
}

/** Tags with a lifetime running (`autotag status`, /admin): "3 tags have a lifetime running (for:); the first ends at …". */
export function runningLifetimes(running: number, nextEndAt: number): string {
  const tags = running === 1 ? '1 tag has' : `${running} tags have`;
  return `${tags} a lifetime running (for:); the first ends at ${isoTime(nextEndAt)}, when its removal is queued`;
}
