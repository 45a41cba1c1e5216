import { MAX_USER_ID_CHARS, userIdProblem } from '../../../src/platforms/user-id';
import { readLine, readMeta, readWhatsapp } from './read-webhook';

const UNUSABLE: [string, unknown, string][] = [
  ['a number', 42, 'the user id is a number, not a string'],
  ['an object', { id: 'U1' }, 'the user id is an object, not a string'],
  ['an array', ['U1'], 'the user id is an array, not a string'],
  ['true', true, 'the user id is a boolean, not a string'],
  ['empty', '', 'the user id is empty'],
  ['whitespace', ' \t\n', 'the user id is only whitespace'],
  ['too long', 'U'.repeat(MAX_USER_ID_CHARS + 1), `the user id is ${MAX_USER_ID_CHARS + 1} characters long (at most ${MAX_USER_ID_CHARS})`],
  ['a NUL', 'U1\u0000', 'the user id holds control characters'],
  ['a newline inside', 'U1\nU2', 'the user id holds control characters'],
  ['a DEL', 'U1\u007f', 'the user id holds control characters'],
  ['a C1 control', 'U1\u0085', 'the user id holds control characters'],
  ['too long in characters (257 emoji are 514 UTF-16 units)', '😀'.repeat(MAX_USER_ID_CHARS + 1), `the user id is ${MAX_USER_ID_CHARS + 1} characters long (at most ${MAX_USER_ID_CHARS})`],
  ['a lone high surrogate', 'a\ud800b', 'the user id is not well-formed UTF-16 (it holds a lone surrogate)'],
  ['a lone low surrogate at the end', 'U1\udc00', 'the user id is not well-formed UTF-16 (it holds a lone surrogate)'],
  ['a surrogate pair the wrong way round', 'U\ude00\ud83d', 'the user id is not well-formed UTF-16 (it holds a lone surrogate)'],
  ['an emoji cut in half at the end', `${'😀'.repeat(3)}\ud83d`, 'the user id is not well-formed UTF-16 (it holds a lone surrogate)'],
];

describe('userIdProblem', () => {
  it.each(UNUSABLE)('refuses %s', (_name, value, problem) => {
    expect(userIdProblem(value)).toBe(problem);
  });

  it.each([
    ['a LINE user id', 'U4af4980629e1f0a2b9a4e3c5d6f7a8b9'],
    ['a page-scoped id', '6783423145028831'],
    ['a WhatsApp business-scoped user id', 'TW.1234567890123456789'],
    ['the longest allowed', 'U'.repeat(MAX_USER_ID_CHARS)],
    ['non-ASCII', 'ユーザー1'],
    ['201 characters of which 200 emoji (401 UTF-16 units)', `E${'😀'.repeat(200)}`],
    ['the longest allowed in emoji', '😀'.repeat(MAX_USER_ID_CHARS)],
  ])('accepts %s', (_name, value) => {
    expect(userIdProblem(value)).toBeUndefined();
  });
});

/** Every platform: an unusable user id leaves that event without a user, says why, and the rest goes on. */
describe('unusable user ids in real webhooks', () => {
  it.each(UNUSABLE)('LINE: %s', (_name, value, problem) => {
    const raw = JSON.stringify({
      destination: 'Udest',
      events: [
        { type: 'message', timestamp: 1, webhookEventId: 'E-bad', source: { type: 'user', userId: value }, message: { id: '1', type: 'text', text: 'coupon' } },
        { type: 'message', timestamp: 2, webhookEventId: 'E-ok', source: { type: 'user', userId: 'U-ok' }, message: { id: '2', type: 'text', text: 'coupon' } },
      ],
    });
    const body = readLine(Buffer.from(raw));
    expect(body.events.map((e) => [e.eventId, e.userId, e.kind, e.text])).toEqual([
      ['E-bad', undefined, 'message', 'coupon'],
      ['E-ok', 'U-ok', 'message', 'coupon'],
    ]);
    expect(body.unusableUsers).toEqual([{ eventId: 'E-bad', problem }]);
  });

  it.each(UNUSABLE)('Messenger and Instagram: %s', (_name, value, problem) => {
    for (const object of ['page', 'instagram']) {
      const raw = JSON.stringify({
        object,
        entry: [
          {
            id: 'P1',
            messaging: [
              { sender: { id: value }, recipient: { id: 'P1' }, timestamp: 1767225600000, message: { mid: 'm-bad', text: 'coupon' } },
              { sender: { id: 'S-ok' }, recipient: { id: 'P1' }, timestamp: 1767225600001, message: { mid: 'm-ok', text: 'coupon' } },
            ],
          },
        ],
      });
      const body = readMeta(Buffer.from(raw));
      expect(body.events.map((e) => [e.eventId, e.userId])).toEqual([
        ['m-bad', undefined],
        ['m-ok', 'S-ok'],
      ]);
      expect(body.unusableUsers).toEqual([{ eventId: 'm-bad', problem }]);
    }
  });

  it.each(UNUSABLE)('WhatsApp `from` and `from_user_id`: %s', (_name, value, problem) => {
    const message = (id: string, user: Record<string, unknown>) => ({ ...user, id, timestamp: '1767225600', type: 'text', text: { body: 'coupon' } });
    const raw = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: 'WABA',
          changes: [
            {
              field: 'messages',
              value: {
                metadata: { display_phone_number: '15550783881', phone_number_id: 'PN1' },
                messages: [message('wamid.bad-from', { from: value }), message('wamid.bad-bsuid', { from_user_id: value }), message('wamid.ok', { from: '886912345678' })],
              },
            },
          ],
        },
      ],
    });
    const body = readWhatsapp(Buffer.from(raw));
    expect(body.events.map((e) => [e.eventId, e.userId])).toEqual([
      ['wamid.bad-from', undefined],
      ['wamid.bad-bsuid', undefined],
      ['wamid.ok', '886912345678'],
    ]);
    expect(body.unusableUsers).toEqual([
      { eventId: 'wamid.bad-from', problem },
      { eventId: 'wamid.bad-bsuid', problem },
    ]);
  });
});

/** A recipient (the bot's own id) that is not well-formed UTF-16 cannot name the bot at a tag API: its events have no user. */
describe('a recipient id that is not well-formed UTF-16', () => {
  const problem = 'the recipient id is not well-formed UTF-16 (it holds a lone surrogate)';

  it('LINE destination', () => {
    const raw = JSON.stringify({ destination: 'U\ud800', events: [{ type: 'follow', timestamp: 1, webhookEventId: 'E-1', source: { type: 'user', userId: 'U-ok' } }] });
    const body = readLine(Buffer.from(raw));
    expect(body.events.map((e) => [e.eventId, e.userId, e.kind])).toEqual([['E-1', undefined, 'follow']]);
    expect(body.unusableUsers).toEqual([{ eventId: 'E-1', problem }]);
  });

  it('Messenger page id, only for the events of that entry', () => {
    const item = (mid: string) => ({ sender: { id: 'S-ok' }, timestamp: 1767225600000, message: { mid, text: 'coupon' } });
    const raw = JSON.stringify({ object: 'page', entry: [{ id: 'P\udfff', messaging: [item('m-bad')] }, { id: 'P2', messaging: [item('m-ok')] }] });
    const body = readMeta(Buffer.from(raw));
    expect(body.events.map((e) => [e.eventId, e.userId])).toEqual([
      ['m-bad', undefined],
      ['m-ok', 'S-ok'],
    ]);
    expect(body.unusableUsers).toEqual([{ eventId: 'm-bad', problem }]);
  });

  it('WhatsApp phone_number_id', () => {
    const change = (pnid: string, id: string) => ({ field: 'messages', value: { metadata: { phone_number_id: pnid }, messages: [{ from: '886912345678', id, timestamp: '1767225600', type: 'text', text: { body: 'coupon' } }] } });
    const raw = JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: 'WABA', changes: [change('PN\ud800', 'wamid.bad'), change('PN1', 'wamid.ok')] }] });
    const body = readWhatsapp(Buffer.from(raw));
    expect(body.events.map((e) => [e.eventId, e.userId])).toEqual([
      ['wamid.bad', undefined],
      ['wamid.ok', '886912345678'],
    ]);
    expect(body.unusableUsers).toEqual([{ eventId: 'wamid.bad', problem }]);
  });
});
