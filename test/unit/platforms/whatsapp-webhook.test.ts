import type { ChatEvent } from '../../../src/chat-event';
import { ENVIRONMENT_ENDPOINTS } from '../../../src/platforms/endpoints';
import { allFixtures, fixture } from './fixtures';
import { readMetaEndpoint, readWhatsapp, whatsappEvents } from './read-webhook';

const PNID = '106540352242922';
const USER = '886912345678';
const BSUID = 'TW.1234567890123456789';
const WAMID = (n: number) => `wamid.HBgMODg2OTEyMzQ1Njc4FQIAEhggQ0U5MzhBMDk3RTcxRTM2QjJCMzJCNTZEOUY0Nk${String(n).padStart(6, '0')}`;

function only(name: string): ChatEvent {
  const events = whatsappEvents(fixture('whatsapp', name));
  expect(events).toHaveLength(1);
  return events[0]!;
}

/** A `messages` change of one message, in the envelope WhatsApp sends. */
function oneMessage(message: Record<string, unknown>, metadata: unknown = { display_phone_number: '15550783881', phone_number_id: PNID }): Buffer {
  return Buffer.from(
    JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [{ id: '102290129340398', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata, messages: [message] } }] }],
    }),
  );
}

describe('the WhatsApp module: messages', () => {
  it('turns a text message into a message event with its text, the sender as user and the phone number as recipient', () => {
    expect(only('text')).toEqual({
      platform: 'whatsapp',
      channel: 'whatsapp',
      recipient: PNID,
      userId: USER,
      kind: 'message',
      type: 'message/text',
      text: '我要優惠券',
      eventId: WAMID(1),
      timestamp: 1767225600000,
      isRedelivery: false,
    });
  });

  it('an interactive reply button is a message with the button title as text and its id as postback data', () => {
    expect(only('interactive-button-reply')).toMatchObject({ kind: 'message', type: 'message/button_reply', text: '要，給我優惠券', postbackData: 'COUPON_YES', userId: USER, eventId: WAMID(2) });
  });

  it('a list row is a message with the row title as text and its id as postback data', () => {
    const event = only('interactive-list-reply');
    expect(event).toMatchObject({ kind: 'message', type: 'message/list_reply', text: 'M 號', postbackData: 'size-m' });
  });

  it("a template's quick-reply button is a message with the button text and payload", () => {
    expect(only('template-button')).toMatchObject({ kind: 'message', type: 'message/button', text: '取消訂閱', postbackData: 'UNSUBSCRIBE_PROMOS', timestamp: 1767225604000 });
  });

  it.each([
    ['image', 'message/image'],
    ['sticker', 'message/sticker'],
    ['reaction', 'message/reaction'],
    ['location', 'message/location'],
    ['system-number-changed', 'message/system'],
    ['unsupported', 'message/unsupported'],
    ['contacts', 'message/contacts'],
    ['order', 'message/order'],
    // A WhatsApp Flow's reply: neither a reply button nor a list row.
    ['interactive-nfm-reply', 'message/nfm_reply'],
    // A message that came from a click-to-WhatsApp ad carries the ad as `referral`.
    ['video-from-ad', 'message/video'],
  ])('%s is a message of type %s without text (a caption is not text) and without postback data', (name, type) => {
    const event = only(name);
    expect(event).toMatchObject({ kind: 'message', type, userId: USER, recipient: PNID });
    expect(event).not.toHaveProperty('text');
    expect(event).not.toHaveProperty('postbackData');
  });

  it('a message in a group (Groups API) belongs to the participant who wrote it, to the number of its change', () => {
    expect(only('group-text')).toMatchObject({ kind: 'message', type: 'message/text', text: '我要優惠券', userId: USER, recipient: PNID });
  });

  it("a user without a phone number (a username, not written for 30 days) is their business-scoped user id", () => {
    expect(only('username-without-phone')).toMatchObject({ userId: 'US.13491208655302741918', text: 'coupon please', kind: 'message' });
  });

  it('takes `from` over `from_user_id` when both are there, and `from_user_id` when `from` is null', () => {
    expect(only('text').userId).toBe(USER);
    const [event] = whatsappEvents(oneMessage({ from: null, from_user_id: BSUID, id: 'wamid.A', timestamp: '1767225600', type: 'text', text: { body: 'x' } }));
    expect(event?.userId).toBe(BSUID);
  });

  it('a `from` that cannot be a user id leaves the message without a user, even with a from_user_id, and says why', () => {
    const body = readWhatsapp(oneMessage({ from: '  ', from_user_id: BSUID, id: 'wamid.B', timestamp: '1767225600', type: 'text', text: { body: 'x' } }));
    expect(body.events.map((e) => [e.eventId, e.userId])).toEqual([['wamid.B', undefined]]);
    expect(body.unusableUsers).toEqual([{ eventId: 'wamid.B', problem: 'the user id is only whitespace' }]);
  });

  it('reads the time in seconds given as a string or a number, and a time in milliseconds as such', () => {
    const at = (timestamp: unknown) => whatsappEvents(oneMessage({ from: USER, id: 'wamid.T', timestamp, type: 'text', text: { body: 'x' } }))[0]?.timestamp;
    expect(at('1767225600')).toBe(1767225600000);
    expect(at(1767225600)).toBe(1767225600000);
    expect(at(1767225600123)).toBe(1767225600123);
  });

  it('ignores a message it cannot read and keeps the others', () => {
    const good = { from: USER, id: 'wamid.ok', timestamp: '1767225600', type: 'text', text: { body: 'kept' } };
    const raw = Buffer.from(
      JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [
          'nonsense',
          { id: 'W', changes: 'not an array' },
          {
            id: 'W',
            changes: [
              7,
              { field: 'messages', value: { messages: [good] } }, // no metadata: no recipient
              { field: 'messages', value: { metadata: { phone_number_id: '' }, messages: [good] } },
              {
                field: 'messages',
                value: {
                  metadata: { phone_number_id: PNID },
                  messages: [
                    null,
                    { ...good, id: '' },
                    { ...good, id: 'wamid.t1', timestamp: 'yesterday' },
                    { ...good, id: 'wamid.t2', timestamp: '-5' },
                    { ...good, id: 'wamid.t3', type: 5 },
                    { ...good, id: 'wamid.nt', type: 'text', text: 'not an object' },
                    good,
                  ],
                },
              },
            ],
          },
        ],
      }),
    );
    const body = readWhatsapp(raw);
    expect(body.ignored).toBe(2 + 3 + 5);
    expect(body.events.map((e) => [e.eventId, e.text])).toEqual([
      ['wamid.nt', undefined],
      ['wamid.ok', 'kept'],
    ]);
    expect(body.recipient).toBe(PNID);
  });
});

describe('the WhatsApp module: what produces nothing', () => {
  it.each(['status-sent', 'status-delivered', 'status-read', 'status-failed'])('%s: a status is no event; its webhook is ordered by the phone number', (name) => {
    const body = readWhatsapp(fixture('whatsapp', name));
    expect(body).toEqual({ events: [], recipient: PNID, ignored: 0, unusableUsers: [] });
    expect(readMetaEndpoint(fixture('whatsapp', name)).orderingKey).toBe(PNID);
  });

  it('template updates and WhatsApp Business app echoes produce nothing; unknown fields and types pass', () => {
    const body = readWhatsapp(fixture('whatsapp', 'unknown-fields'));
    expect(body.ignored).toBe(0);
    expect(body.events.map((e) => [e.type, e.text, e.postbackData])).toEqual([
      ['message/text', '我要優惠券', undefined],
      ['message/unsupported', undefined, undefined],
      ['message/nfm_reply', undefined, undefined],
      ['message/hologram', undefined, undefined],
    ]);
    expect(body.events.every((e) => e.kind === 'message' && e.userId === USER)).toBe(true);
  });
});

describe('the WhatsApp module: batches', () => {
  it('processes every entry, change and message in order, each with its own phone number as recipient', () => {
    const body = readWhatsapp(fixture('whatsapp', 'batch-several-numbers'));
    expect(body.ignored).toBe(0);
    expect(body.events.map((e) => [e.recipient, e.userId, e.text, e.eventId])).toEqual([
      [PNID, USER, '優惠券', WAMID(20)],
      [PNID, '886987654321', '還有嗎', WAMID(21)],
      ['113469928305574', USER, '加入會員', WAMID(22)],
      ['109876543210987', '886987654321', 'hello', WAMID(23)],
    ]);
    expect(body.recipient).toBe(PNID);
    expect(new Set(body.events.map((e) => e.eventId)).size).toBe(4);
  });

  it('understands every message of every fixture (nothing ignored, every user usable)', () => {
    for (const [name, raw] of allFixtures('whatsapp')) {
      const body = readWhatsapp(raw);
      expect({ name, ignored: body.ignored, unusable: body.unusableUsers }).toEqual({ name, ignored: 0, unusable: [] });
    }
  });
});

describe('WhatsApp on the endpoints', () => {
  it('reaches the WhatsApp module through the Facebook endpoint too (one Meta app, one callback URL)', () => {
    const events = readMetaEndpoint(fixture('whatsapp', 'text'), 'facebook').events;
    expect(events).toEqual([expect.objectContaining({ platform: 'whatsapp', channel: 'facebook', recipient: PNID, userId: USER })]);
  });

  it('/webhooks/whatsapp reads WhatsApp bodies and no other Meta object', () => {
    const endpoint = ENVIRONMENT_ENDPOINTS.find((e) => e.path === '/webhooks/whatsapp');
    expect(endpoint?.channel).toBe('whatsapp');
    const read = endpoint!.dispatch.read;
    expect(read(fixture('whatsapp', 'text'), 'whatsapp').events).toHaveLength(1);
    expect(read(fixture('meta', 'messenger-message'), 'whatsapp')).toMatchObject({ events: [], unknownObject: 'page' });
  });
});
