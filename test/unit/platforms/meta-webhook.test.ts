import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { ChatEvent } from '../../../src/chat-event';
import { WebhookBodyError } from '../../../src/platforms/errors';
import { allFixtures, fixture } from './fixtures';
import { metaEvents, readMeta, readMetaEndpoint } from './read-webhook';

const PAGE = '106938284123456';
const PSID = '6783423145028831';
const PSID2 = '7123344556677889';
const IG = '17841400123456789';
const IGSID = '1234567890123456';

function eventsOf(name: string): ChatEvent[] {
  return metaEvents(fixture('meta', name));
}

function only(name: string): ChatEvent {
  const events = eventsOf(name);
  expect(events).toHaveLength(1);
  return events[0]!;
}

function parseError(raw: string): WebhookBodyError {
  try {
    readMeta(Buffer.from(raw));
  } catch (err) {
    if (err instanceof WebhookBodyError) return err;
    throw err;
  }
  throw new Error(`expected ${raw} to be rejected`);
}

describe('the Messenger and Instagram module: the top level', () => {
  it.each([
    ['not json', /^body is not JSON: /],
    ['[{"object":"page","entry":[]}]', /^body must be a JSON object, not an array$/],
    ['{"entry":[]}', /^`object` is missing$/],
    ['{"object":"page"}', /^`entry` must be an array, not missing$/],
    ['{"object":"page","entry":{"id":"1"}}', /^`entry` must be an array, not an object$/],
  ])('rejects %j with a WebhookBodyError that says why', (raw, detail) => {
    expect(parseError(raw).detail).toMatch(detail);
  });

  it.each(['1', 'null', 'true', '{"page":1}', '["page"]'])('takes an `object` of %s for an object no module reads (CONTRACT: a JSON object with `object` and an `entry` array is a webhook)', (value) => {
    const read = readMetaEndpoint(Buffer.from(`{"object":${value},"entry":[{"id":"${PAGE}","messaging":[]}]}`));
    expect(read).toMatchObject({ events: [], unknownObject: value, recipient: PAGE });
  });

  it('accepts an empty entry list', () => {
    expect(readMeta(Buffer.from('{"object":"page","entry":[]}'))).toEqual({ events: [], recipient: 'page', ignored: 0, unusableUsers: [] });
  });

  it('ignores entries and items it cannot understand and keeps the others', () => {
    const raw = JSON.stringify({
      object: 'page',
      entry: [
        'nonsense',
        { time: 1 }, // no id
        {
          id: PAGE,
          messaging: [
            7,
            { sender: { id: PSID }, recipient: { id: PAGE } }, // no timestamp
            { sender: { id: PSID }, timestamp: 1767225600000, message: { text: 'no mid' } },
            { sender: { id: PSID }, timestamp: 1767225600000, message: null },
            { sender: { id: PSID }, timestamp: 1767225600000, postback: 'GET_STARTED' },
            { sender: { id: 5 }, timestamp: 1767225600000, message: { mid: 'm_1', text: 'numeric sender' } },
            { sender: { id: PSID }, timestamp: 1767225600000 }, // nothing but the envelope
            { sender: { id: PAGE }, timestamp: 1767225600000, message: { mid: 'm_2', is_echo: 'true', text: 'maybe our own' } },
            { sender: { id: PSID }, recipient: { id: PAGE }, timestamp: 1767225600001, message: { mid: 'm_ok', text: 'kept', nlp: { entities: {} } } },
          ],
          standby: 'not an array',
        },
      ],
    });
    const body = readMeta(Buffer.from(raw));
    expect(body.ignored).toBe(9);
    expect(body.events).toEqual([
      // A user id that is not a string leaves the event without a user; it is not ignored.
      { platform: 'facebook', channel: 'facebook', recipient: PAGE, userId: undefined, kind: 'message', type: 'message/text', text: 'numeric sender', eventId: 'm_1', timestamp: 1767225600000, isRedelivery: false },
      { platform: 'facebook', channel: 'facebook', recipient: PAGE, userId: PSID, kind: 'message', type: 'message/text', text: 'kept', eventId: 'm_ok', timestamp: 1767225600001, isRedelivery: false },
    ]);
    expect(body.unusableUsers).toEqual([{ eventId: 'm_1', problem: 'the user id is a number, not a string' }]);
  });

  it('parses and normalises a batch of 1,000 items in a few milliseconds', () => {
    // Measured in a plain Node process, as in production; TypeScript is transpiled on load.
    const register = `
      const ts = require('typescript');
      require.extensions['.ts'] = (module, file) => module._compile(ts.transpileModule(require('fs').readFileSync(file, 'utf8'),
        { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText, file);
      require(${JSON.stringify(path.join(__dirname, 'time-meta-batch.ts'))});`;
    const run = spawnSync(process.execPath, ['-e', register], { cwd: path.join(__dirname, '..', '..', '..'), encoding: 'utf8', timeout: 60_000 });
    expect(run.stderr).toBe('');
    const result = JSON.parse(run.stdout) as { events: number; bestMs: number; jsonParseMs: number };
    expect(result.events).toBe(1000);
    // Best of 50 runs each, so that a busy shared machine does not decide the result; and
    // compared with JSON.parse of the same bytes, which a busy machine slows down alike.
    expect(result.bestMs).toBeLessThan(15);
    expect(result.bestMs / result.jsonParseMs).toBeLessThan(4);
  });
});

describe('the Messenger and Instagram module: Messenger', () => {
  it('turns a message into a message event with its text', () => {
    expect(only('messenger-message')).toEqual({
      platform: 'facebook',
      channel: 'facebook',
      recipient: PAGE,
      userId: PSID,
      kind: 'message',
      type: 'message/text',
      text: '我要優惠券',
      eventId: 'm_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P',
      timestamp: 1767225600123,
      isRedelivery: false,
    });
  });

  it('an attachment-only message is a message event without text', () => {
    const event = only('messenger-attachment');
    expect(event).toMatchObject({ kind: 'message', type: 'message/image', userId: PSID, eventId: 'm_attachment-1' });
    expect(event).not.toHaveProperty('text');
  });

  it('a quick reply is a message with text and postback data', () => {
    expect(only('messenger-quick-reply')).toMatchObject({ kind: 'message', type: 'message/quick_reply', text: '紅色', postbackData: 'COLOR_RED', eventId: 'm_quickreply-1' });
  });

  it('a postback carries its payload and is identified by sender, timestamp and payload', () => {
    const event = only('messenger-postback');
    expect(event).toEqual({
      platform: 'facebook',
      channel: 'facebook',
      recipient: PAGE,
      userId: PSID,
      kind: 'postback',
      type: 'postback',
      postbackData: 'GET_STARTED',
      eventId: `${PSID}:1767225600126:GET_STARTED`,
      timestamp: 1767225600126,
      isRedelivery: false,
    });
    expect(event).not.toHaveProperty('text');
    expect(only('messenger-postback-referral')).toMatchObject({ kind: 'postback', postbackData: 'GET_STARTED' });
  });

  it('echoes produce nothing', () => {
    expect(eventsOf('messenger-echo')).toEqual([]);
  });

  it('a referral is kind other with a stable id', () => {
    const event = only('messenger-referral');
    expect(event).toMatchObject({ kind: 'other', type: 'referral', userId: PSID });
    expect(event.eventId).toMatch(/^referral:[0-9a-f]{32}$/);
    expect(only('messenger-referral').eventId).toBe(event.eventId);
  });

  it('standby items are processed like messaging items (echoes still skipped)', () => {
    const events = eventsOf('messenger-standby');
    expect(events.map((e) => [e.kind, e.type, e.userId, e.text, e.postbackData])).toEqual([
      ['message', 'message/text', PSID, '我要優惠券', undefined],
      // Standby postbacks come without payload.
      ['postback', 'postback', PSID, undefined, undefined],
    ]);
    expect(events[1]?.eventId).toBe(`${PSID}:1767225600132:`);
  });

  it('postbacks of different senders never share a dedup id, whatever their sender and payload hold', () => {
    const postback = (sender: string, timestamp: number, payload: string) =>
      readMeta(Buffer.from(JSON.stringify({ object: 'page', entry: [{ id: PAGE, time: 1767225601000, messaging: [{ sender: { id: sender }, recipient: { id: PAGE }, timestamp, postback: { title: 't', payload } }] }] }))).events[0]!;
    const a = postback('S', 1767225600000, '1767225600001:P');
    const b = postback('S:1767225600000', 1767225600001, 'P');
    expect(a.eventId).not.toBe(b.eventId);
    // Ids of ordinary senders are as before (redeliveries across an upgrade are still recognised).
    expect(postback(PSID, 1767225600000, 'a:b').eventId).toBe(`${PSID}:1767225600000:a:b`);
  });

  it('read, delivery, reaction, opt-in and handover items are kind other, named, with distinct ids', () => {
    const events = [...eventsOf('messenger-read-delivery'), ...eventsOf('messenger-other-items')];
    expect(events.map((e) => [e.kind, e.type])).toEqual([
      ['other', 'read'],
      ['other', 'delivery'],
      ['other', 'reaction'],
      ['other', 'optin'],
      ['other', 'pass_thread_control'],
    ]);
    expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
    for (const e of events) expect(e).not.toHaveProperty('text');
  });

  it("a delivery receipt without a timestamp (as Meta's reference sends it) is kind other, timed by its entry, and not ignored", () => {
    const raw = fixture('meta', 'messenger-delivery-untimed');
    const body = readMeta(raw);
    expect(body.ignored).toBe(0);
    expect(body.events).toEqual([
      expect.objectContaining({ kind: 'other', type: 'delivery', userId: PSID, recipient: PAGE, timestamp: 1767225600500 }),
    ]);
    // The same receipt in an entry of another time is the same event (a redelivery).
    const later = JSON.parse(raw.toString()) as { entry: { time: number }[] };
    later.entry[0]!.time += 60_000;
    expect(readMeta(Buffer.from(JSON.stringify(later))).events[0]!.eventId).toBe(body.events[0]!.eventId);
    // Without the entry's time either, it cannot be dated: ignored, as before.
    delete (later.entry[0] as { time?: number }).time;
    expect(readMeta(Buffer.from(JSON.stringify(later)))).toMatchObject({ ignored: 1, events: [] });
  });

  it('processes every entry and every item of a batch, in order', () => {
    const events = eventsOf('messenger-batch');
    expect(events.map((e) => [e.recipient, e.userId, e.kind, e.eventId.startsWith('read:') ? 'read:…' : e.eventId])).toEqual([
      [PAGE, PSID, 'message', 'm_batch-1'],
      [PAGE, PSID2, 'postback', `${PSID2}:1767225600202:action=subscribe`],
      [PAGE, PSID, 'other', 'read:…'],
      [PAGE, PSID2, 'message', 'm_batch-2'],
      ['998877665544332', '5566778899001122', 'message', 'm_batch-3'],
    ]);
  });

  it('processes all 1,000 items of a batch spread over entries, messaging and standby', () => {
    const pages = ['111', '222', '333', '444'];
    const entry = pages.map((id, e) => {
      const item = (i: number) => {
        const n = e * 250 + i;
        // Every tenth item is the page's own echo.
        return n % 10 === 9
          ? { sender: { id }, recipient: { id: `user-${n}` }, timestamp: 1767225600000 + n, message: { mid: `m_${n}`, is_echo: true, text: 'echo' } }
          : { sender: { id: `user-${n}` }, recipient: { id }, timestamp: 1767225600000 + n, message: { mid: `m_${n}`, text: `text ${n}` } };
      };
      const all = Array.from({ length: 250 }, (_, i) => item(i));
      return { id, time: 1767225601000, messaging: all.slice(0, 200), standby: all.slice(200) };
    });
    const body = readMeta(Buffer.from(JSON.stringify({ object: 'page', entry })));
    expect(body.ignored).toBe(0);
    const events = body.events;
    expect(events).toHaveLength(900);
    expect(events.every((e) => e.kind === 'message' && e.userId === `user-${e.eventId.slice(2)}`)).toBe(true);
    expect(events.map((e) => e.recipient)).toEqual(pages.flatMap((id) => Array<string>(225).fill(id)));
    expect(new Set(events.map((e) => e.channel))).toEqual(new Set(['facebook']));
    expect(events.map((e) => e.timestamp)).toEqual([...events.map((e) => e.timestamp)].sort((a, b) => a - b));
  });

  it('page feed changes produce nothing', () => {
    const body = readMeta(fixture('meta', 'page-feed'));
    expect(body.ignored).toBe(0);
    expect(body.events).toEqual([]);
  });
});

describe('the Messenger and Instagram module: Instagram', () => {
  it('a message belongs to the Instagram account and the sender', () => {
    expect(only('instagram-message')).toMatchObject({ platform: 'instagram', channel: 'facebook', recipient: IG, userId: IGSID, kind: 'message', type: 'message/text', text: '我要優惠券' });
  });

  it('a postback (ice breaker) carries its payload', () => {
    expect(only('instagram-postback')).toMatchObject({
      platform: 'instagram',
      kind: 'postback',
      postbackData: 'ICEBREAKER_COUPONS',
      eventId: `${IGSID}:1767225600302:ICEBREAKER_COUPONS`,
    });
  });

  it('a story reply is a message with its text', () => {
    expect(only('instagram-story-reply')).toMatchObject({ platform: 'instagram', kind: 'message', type: 'message/story_reply', text: '好漂亮！哪裡買？' });
  });

  it('a story mention is a message without text', () => {
    const event = only('instagram-story-mention');
    expect(event).toMatchObject({ kind: 'message', type: 'message/story_mention' });
    expect(event).not.toHaveProperty('text');
  });

  it('an unsent message is kind other and is not taken for a duplicate of the message', () => {
    const deleted = only('instagram-deleted');
    expect(deleted).toMatchObject({ kind: 'other', type: 'message/deleted', userId: IGSID });
    expect(deleted.eventId).not.toBe(only('instagram-message').eventId.replace(/.$/, ''));
    expect(deleted.eventId.endsWith(':deleted')).toBe(true);
  });

  it('echoes and comments produce nothing', () => {
    expect(eventsOf('instagram-echo')).toEqual([]);
    expect(eventsOf('instagram-comment')).toEqual([]);
  });
});

describe('the Messenger and Instagram module: everything else', () => {
  it('objects no Meta platform reads are accepted and produce nothing', () => {
    const body = readMetaEndpoint(fixture('meta', 'other-object'));
    expect(body).toMatchObject({ unknownObject: 'permissions', events: [], ignored: 0 });
  });

  it('a timestamp in seconds is read as such', () => {
    const raw = JSON.stringify({ object: 'page', entry: [{ id: PAGE, messaging: [{ sender: { id: PSID }, timestamp: 1767225600, message: { mid: 'm_s', text: 'x' } }] }] });
    expect(metaEvents(Buffer.from(raw))[0]?.timestamp).toBe(1767225600000);
  });

  it('a Chat Plugin guest (user_ref, no PSID) has no user', () => {
    const raw = JSON.stringify({
      object: 'page',
      entry: [{ id: PAGE, messaging: [{ sender: { user_ref: 'guest-1' }, recipient: { id: PAGE }, timestamp: 1767225600000, postback: { payload: 'P' } }] }],
    });
    const [event] = metaEvents(Buffer.from(raw));
    expect(event).toMatchObject({ kind: 'postback', postbackData: 'P', eventId: 'guest-1:1767225600000:P' });
    expect(event?.userId).toBeUndefined();
  });

  it('understands every item of every fixture (nothing ignored)', () => {
    for (const [name, raw] of allFixtures('meta')) {
      const body = readMetaEndpoint(raw);
      expect({ name, ignored: body.ignored, unusable: body.unusableUsers }).toEqual({ name, ignored: 0, unusable: [] });
    }
  });
});
