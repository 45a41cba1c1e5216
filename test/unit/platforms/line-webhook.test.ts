import type { ChatEvent } from '../../../src/chat-event';
import { WebhookBodyError } from '../../../src/platforms/errors';
import { parseLineEnvelope } from '../../../src/platforms/line';
import { parseLineEvent } from '../../../src/platforms/line-schema';
import { allFixtures, fixture } from './fixtures';
import { lineEvents, readLine } from './read-webhook';

const DEST = 'U4af4980629e1f0a2b9a4e3c5d6f7a8b9';
const USER = 'U206d25c2ea6bd87c17655609a1c37cb8';

function eventsOf(name: string): ChatEvent[] {
  return lineEvents(fixture('line', name));
}

function only(name: string): ChatEvent {
  const events = eventsOf(name);
  expect(events).toHaveLength(1);
  return events[0]!;
}

describe('the LINE module: the top level', () => {
  it('accepts the Verify body with no events', () => {
    expect(readLine(fixture('line', 'verify'))).toEqual({ events: [], recipient: DEST, ignored: 0, unusableUsers: [] });
  });

  it.each([
    ['', /^body is not JSON: /],
    ['{"destination":"U1","events":[', /^body is not JSON: .*JSON/],
    ['[]', /^body must be a JSON object, not an array$/],
    ['null', /^body must be a JSON object, not null$/],
    ['"events"', /^body must be a JSON object, not a string$/],
    ['{"destination":"U1"}', /^`events` must be an array, not missing$/],
    ['{"destination":"U1","events":{}}', /^`events` must be an array, not an object$/],
    ['{"destination":"U1","events":null}', /^`events` must be an array, not null$/],
  ])('rejects %j with a WebhookBodyError that says why', (raw, detail) => {
    let caught: unknown;
    try {
      readLine(Buffer.from(raw));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(WebhookBodyError);
    expect((caught as WebhookBodyError).detail).toMatch(detail);
  });

  it('ignores events it cannot understand and keeps the others', () => {
    const raw = JSON.stringify({
      destination: DEST,
      events: [
        42,
        null,
        { type: 'message' }, // no message, no timestamp
        { type: 'message', timestamp: 1, message: 'hi' },
        { type: 'postback', timestamp: 1, postback: {} }, // no data
        { type: 'follow', timestamp: 'yesterday' },
        { type: 'follow', timestamp: 1.5 },
        { type: 'follow', timestamp: 1, source: { type: 'user', userId: 7 } },
        { type: 'somethingNew', timestamp: 5, source: { type: 'user', userId: USER }, webhookEventId: 'E1', brandNew: { x: 1 } },
      ],
    });
    const body = readLine(Buffer.from(raw));
    expect(body.ignored).toBe(7);
    expect(body.events).toEqual([
      // A user id that is not a string leaves the event without a user; it is not ignored.
      { platform: 'line', channel: 'line', recipient: DEST, userId: undefined, kind: 'follow', type: 'follow', eventId: expect.stringMatching(/^content:[0-9a-f]{32}$/), timestamp: 1, isRedelivery: false },
      { platform: 'line', channel: 'line', recipient: DEST, userId: USER, kind: 'other', type: 'somethingNew', eventId: 'E1', timestamp: 5, isRedelivery: false },
    ]);
    expect(body.unusableUsers).toEqual([{ eventId: body.events[0]!.eventId, problem: 'the user id is a number, not a string' }]);
  });

  it('gives the recipient "" when destination is missing or not a string', () => {
    const raw = JSON.stringify({ destination: 5, events: [{ type: 'unfollow', timestamp: 1, webhookEventId: 'E2' }] });
    expect(lineEvents(Buffer.from(raw))[0]?.recipient).toBe('');
  });

  it('names the channel the webhook came in on, apart from the recipient', () => {
    expect(lineEvents(fixture('line', 'message-text'), 'brand-a-line')[0]).toMatchObject({ channel: 'brand-a-line', recipient: DEST });
  });

  it('keeps fields it does not know (they pass through)', () => {
    const parsed = parseLineEvent(parseLineEnvelope(fixture('line', 'message-text-mention')).events[0]);
    expect(parsed?.shape).toBe('message');
    expect(parsed?.event).toMatchObject({ mode: 'active', message: { mention: { mentionees: [{ type: 'all' }, { type: 'user' }] } } });
  });
});

describe('the LINE module: events', () => {
  it('turns a text message into a message event with its text', () => {
    expect(only('message-text')).toEqual({
      platform: 'line',
      channel: 'line',
      recipient: DEST,
      userId: USER,
      kind: 'message',
      type: 'message/text',
      text: '我要優惠券',
      eventId: '01HQ3J8Z6K2M4N5P7Q8R9S0T1V',
      timestamp: 1767225601000,
      isRedelivery: false,
    });
  });

  it('keeps the text of messages with LINE emoji and mentions as sent', () => {
    expect(only('message-text-emojis').text).toBe('@All $ coupon $');
    expect(only('message-text-mention')).toMatchObject({ kind: 'message', userId: USER, text: '@All @example Good Morning!! (love)' });
  });

  it.each([
    ['message-image', 'message/image'],
    ['message-video', 'message/video'],
    ['message-audio', 'message/audio'],
    ['message-file', 'message/file'],
    ['message-location', 'message/location'],
    ['message-sticker', 'message/sticker'],
    // A message sticker carries text, but only text messages have text for rules.
    ['message-sticker-with-text', 'message/sticker'],
  ])('%s is a message event of type %s without text', (name, type) => {
    const event = only(name);
    expect(event).toMatchObject({ kind: 'message', type, userId: USER });
    expect(event).not.toHaveProperty('text');
    expect(event).not.toHaveProperty('postbackData');
  });

  it.each([
    ['postback', 'action=subscribe&plan=gold'],
    ['postback-datetime-params', 'storeId=12345'],
    ['postback-richmenu-switch', 'richmenu-changed-to-b'],
  ])('%s is a postback event with its data', (name, data) => {
    const event = only(name);
    expect(event).toMatchObject({ kind: 'postback', type: 'postback', postbackData: data, userId: USER });
    expect(event).not.toHaveProperty('text');
  });

  it.each([
    ['follow', 'follow', 'follow'],
    ['follow-unblocked', 'follow', 'follow'],
    ['unfollow', 'unfollow', 'unfollow'],
  ])('%s is a %s event of the user', (name, kind, type) => {
    expect(only(name)).toMatchObject({ kind, type, userId: USER });
  });

  it.each([
    ['join', 'join', undefined],
    ['leave', 'leave', undefined],
    ['member-joined', 'memberJoined', undefined],
    ['member-left', 'memberLeft', undefined],
    ['unsend', 'unsend', USER],
    ['video-play-complete', 'videoPlayComplete', USER],
    ['beacon', 'beacon', USER],
    ['account-link', 'accountLink', USER],
    ['things', 'things', USER],
    ['module-attached', 'module', USER],
    ['module-detached', 'module', USER],
    ['activated', 'activated', USER],
    ['deactivated', 'deactivated', USER],
    ['bot-suspended', 'botSuspended', undefined],
    ['bot-resumed', 'botResumed', undefined],
    ['membership', 'membership', USER],
    ['pnp-delivery', 'delivery', USER],
    // An edit of a text message in a group (line-bot-sdk's messageEdited): not a new message.
    ['message-edited', 'messageEdited', USER],
  ])('%s is kind other, type %s', (name, type, userId) => {
    const event = only(name);
    expect(event).toMatchObject({ kind: 'other', type, platform: 'line', channel: 'line', recipient: DEST });
    expect(event.userId).toBe(userId);
  });

  it('a group message without userId has no user', () => {
    const event = only('group-message-without-user');
    expect(event).toMatchObject({ kind: 'message', text: '我要優惠券' });
    expect(event.userId).toBeUndefined();
  });

  it('a message in a room belongs to its sender', () => {
    expect(only('room-message')).toMatchObject({ kind: 'message', userId: USER, text: 'hello from a room' });
  });

  it('handles an event in standby mode (another module has the chat) as any other', () => {
    // https://developers.line.biz/en/reference/messaging-api/#common-properties: `mode` "standby"
    // means the bot should not reply; what the user wrote or tapped still says the same about them.
    for (const name of ['message-text', 'postback', 'follow']) {
      const active = only(name);
      const standby = fixture('line', name).toString('utf8').replace('"mode": "active"', '"mode": "standby"');
      expect(standby).toContain('"mode": "standby"');
      expect(lineEvents(Buffer.from(standby))).toEqual([active]);
    }
  });

  it('marks redeliveries', () => {
    expect(only('redelivery').isRedelivery).toBe(true);
    expect(only('message-text').isRedelivery).toBe(false);
  });

  it('gives an old-style event without webhookEventId a stable id derived from its content', () => {
    const first = only('old-style-without-event-id');
    expect(first).toMatchObject({ kind: 'message', text: 'Hello, world', timestamp: 1462629479859, isRedelivery: false });
    expect(first.eventId).toMatch(/^content:[0-9a-f]{32}$/);
    // Same content with its keys in another order and another reply token: the same id.
    const reordered = JSON.stringify({
      events: [{ message: { text: 'Hello, world', type: 'text', id: '325708' }, source: { userId: USER, type: 'user' }, timestamp: 1462629479859, type: 'message', replyToken: 'other' }],
      destination: DEST,
    });
    expect(lineEvents(Buffer.from(reordered))[0]?.eventId).toBe(first.eventId);
    // Different content: a different id.
    const otherText = fixture('line', 'old-style-without-event-id').toString('utf8').replace('Hello, world', 'Hello, there');
    expect(lineEvents(Buffer.from(otherText))[0]?.eventId).not.toBe(first.eventId);
  });

  it('keeps the order of several events and each one its own user and id', () => {
    const events = eventsOf('several-events');
    expect(events.map((e) => [e.kind, e.type, e.userId])).toEqual([
      ['follow', 'follow', USER],
      ['message', 'message/text', USER],
      ['message', 'message/sticker', undefined],
      ['postback', 'postback', USER],
    ]);
    expect(new Set(events.map((e) => e.eventId)).size).toBe(4);
  });

  it('understands every event of every fixture (nothing ignored)', () => {
    for (const [name, raw] of allFixtures('line')) {
      const body = readLine(raw);
      expect({ name, ignored: body.ignored, unusable: body.unusableUsers }).toEqual({ name, ignored: 0, unusable: [] });
      const parsedCount = (JSON.parse(raw.toString('utf8')) as { events: unknown[] }).events.length;
      expect({ name, events: body.events.length }).toEqual({ name, events: parsedCount });
    }
  });
});
