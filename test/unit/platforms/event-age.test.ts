import type { ChatEvent } from '../../../src/chat-event';
import { MAX_EVENT_AGE_MS, splitByAge } from '../../../src/platforms/event-age';

const event = (eventId: string, timestamp: number): ChatEvent => ({
  platform: 'line',
  channel: 'line',
  recipient: 'U0',
  userId: 'U1',
  kind: 'message',
  type: 'message/text',
  text: 'coupon',
  eventId,
  timestamp,
  isRedelivery: false,
});

describe('splitByAge: events more than 8 days before their receipt are stale', () => {
  const receivedAt = Date.parse('2026-12-09T04:00:00Z');

  it('keeps an event of exactly 8 days, drops one a millisecond older, keeps future ones and the order', () => {
    const events = [
      event('future', receivedAt + 3_600_000),
      event('eight-days', receivedAt - MAX_EVENT_AGE_MS),
      event('older', receivedAt - MAX_EVENT_AGE_MS - 1),
      event('now', receivedAt),
      event('epoch', 0),
    ];
    const { fresh, stale } = splitByAge(events, receivedAt);
    expect(fresh.map((e) => e.eventId)).toEqual(['future', 'eight-days', 'now']);
    expect(stale.map((e) => e.eventId)).toEqual(['older', 'epoch']);
    expect(MAX_EVENT_AGE_MS).toBe(8 * 24 * 3_600_000);
  });
});
