import type { ChatEvent } from '../chat-event';

/**
 * The key that keeps forwards in order (CONTRACT "Forwards"): the user of the
 * webhook's first event, else that event's channel; for a webhook without
 * events, `fallbackChannel` (LINE `destination`, Meta `entry[0].id`).
 */
export function orderingKeyOf(events: readonly ChatEvent[], fallbackChannel: string): string {
  const first = events[0];
  if (first === undefined) return fallbackChannel;
  return first.userId ?? first.channel;
}
