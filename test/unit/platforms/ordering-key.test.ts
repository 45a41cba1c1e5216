import type { ChatEvent } from '../../../src/chat-event';
import { lineToChatEvents, parseLineWebhook } from '../../../src/platforms/line';
import { metaToChatEvents, parseMetaWebhook } from '../../../src/platforms/meta';
import { orderingKeyOf } from '../../../src/platforms/ordering-key';
import { fixture } from './fixtures';

const DEST = 'U4af4980629e1f0a2b9a4e3c5d6f7a8b9';
const USER = 'U206d25c2ea6bd87c17655609a1c37cb8';

function event(userId: string | undefined, channel = 'C1'): ChatEvent {
  return { platform: 'line', channel, userId, kind: 'message', type: 'message/text', eventId: `E-${String(userId)}`, timestamp: 1, isRedelivery: false };
}

describe('orderingKeyOf', () => {
  it('is the user of the first event', () => {
    expect(orderingKeyOf([event('U1'), event('U2')], 'fallback')).toBe('U1');
  });

  it("is the first event's channel when that event has no user, even if later ones do", () => {
    expect(orderingKeyOf([event(undefined, 'C9'), event('U2')], 'fallback')).toBe('C9');
  });

  it('is the fallback channel when there are no events', () => {
    expect(orderingKeyOf([], 'C0')).toBe('C0');
  });

  it('works on real webhooks', () => {
    const line = parseLineWebhook(fixture('line', 'several-events'));
    expect(orderingKeyOf(lineToChatEvents(line), line.destination ?? '')).toBe(USER);
    const join = parseLineWebhook(fixture('line', 'join'));
    expect(orderingKeyOf(lineToChatEvents(join), join.destination ?? '')).toBe(DEST);
    const verify = parseLineWebhook(fixture('line', 'verify'));
    expect(orderingKeyOf(lineToChatEvents(verify), verify.destination ?? '')).toBe(DEST);
    // An echo produces no event; a webhook of only echoes falls back to the page.
    const echo = parseMetaWebhook(fixture('meta', 'messenger-echo'));
    expect(orderingKeyOf(metaToChatEvents(echo), echo.entries[0]?.id ?? echo.object)).toBe('106938284123456');
  });
});
