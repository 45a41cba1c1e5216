import type { ChatEvent } from '../chat-event';

/**
 * How old an event may be, by its own time, and still change anything: 8 days. That is
 * older than every retry a platform makes (LINE redelivers for a day; Meta retries for
 * up to 36 hours, https://developers.facebook.com/docs/messenger-platform/webhooks#delivery;
 * WhatsApp's last retries come after 7 days, https://developers.facebook.com/docs/whatsapp/cloud-api/guides/set-up-webhooks)
 * and than the dedup window, so an older event can only be a replay of a captured
 * webhook (CONTRACT.md, "What an event becomes").
 */
export const MAX_EVENT_AGE_MS = 8 * 24 * 3_600_000;

export interface AgedEvents {
  /** Events young enough to be acted on, in their order. */
  fresh: ChatEvent[];
  /** Events older than MAX_EVENT_AGE_MS at `receivedAt`: acknowledged, nothing else. */
  stale: ChatEvent[];
}

/** Splits a webhook's events by age at its receipt; a time in the future counts as the receipt. */
export function splitByAge(events: readonly ChatEvent[], receivedAt: number): AgedEvents {
  const fresh: ChatEvent[] = [];
  const stale: ChatEvent[] = [];
  for (const e of events) (receivedAt - e.timestamp > MAX_EVENT_AGE_MS ? stale : fresh).push(e);
  return { fresh, stale };
}
