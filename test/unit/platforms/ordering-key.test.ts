import type { ChatEvent } from '../../../src/chat-event';
import { firstUserOrRecipient } from '../../../src/platforms/platform';
import { fixture } from './fixtures';
import { readLine, readMetaEndpoint } from './read-webhook';

const DEST = 'U4af4980629e1f0a2b9a4e3c5d6f7a8b9';
const USER = 'U206d25c2ea6bd87c17655609a1c37cb8';

function event(userId: string | undefined, recipient = 'C1'): ChatEvent {
  return { platform: 'line', channel: 'line', recipient, userId, kind: 'message', type: 'message/text', eventId: `E-${String(userId)}`, timestamp: 1, isRedelivery: false };
}

const webhook = (events: ChatEvent[], recipient: string) => ({ events, recipient, ignored: 0, unusableUsers: [] });

describe('firstUserOrRecipient (the ordering key of forwards)', () => {
  it('is the user of the first event', () => {
    expect(firstUserOrRecipient(webhook([event('U1'), event('U2')], 'fallback'))).toBe('U1');
  });

  it("is the first event's recipient when that event has no user, even if later ones do", () => {
    expect(firstUserOrRecipient(webhook([event(undefined, 'C9'), event('U2')], 'fallback'))).toBe('C9');
  });

  it("is the webhook's recipient when there are no events", () => {
    expect(firstUserOrRecipient(webhook([], 'C0'))).toBe('C0');
  });

  it('works on real webhooks', () => {
    expect(readMetaEndpoint(fixture('meta', 'messenger-batch')).orderingKey).toBe('6783423145028831');
    const line = readLine(fixture('line', 'several-events'));
    expect(firstUserOrRecipient(line)).toBe(USER);
    expect(firstUserOrRecipient(readLine(fixture('line', 'join')))).toBe(DEST);
    expect(firstUserOrRecipient(readLine(fixture('line', 'verify')))).toBe(DEST);
    // An echo produces no event; a webhook of only echoes falls back to the page.
    expect(readMetaEndpoint(fixture('meta', 'messenger-echo')).orderingKey).toBe('106938284123456');
    // An object no platform reads: its first entry's id.
    expect(readMetaEndpoint(fixture('meta', 'other-object')).orderingKey).toBe(JSON.parse(fixture('meta', 'other-object').toString('utf8')).entry[0].id);
  });
});
