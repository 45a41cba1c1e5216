import fc from 'fast-check';
import { WebhookBodyError } from '../../../src/platforms/errors';
import { verifyLineSignature } from '../../../src/platforms/line';
import { verifyMetaSignature } from '../../../src/platforms/meta-envelope';
import { signLine, signMeta } from '../../helpers/signatures';
import { allFixtures } from './fixtures';
import { lineEvents, metaEvents, readLine, readMetaEndpoint } from './read-webhook';

/*
 * Whatever arrives, parsing either succeeds or throws a WebhookBodyError (a 400),
 * normalising never throws, and signature checks never throw (a 401, never a 500).
 */

type Outcome = 'parsed' | 'rejected';

function parseAndNormalise(raw: Buffer): { line: Outcome; meta: Outcome } {
  return { line: attempt(() => readLine(raw)), meta: attempt(() => readMetaEndpoint(raw)) };
}

function attempt(run: () => unknown): Outcome {
  try {
    run();
    return 'parsed';
  } catch (err) {
    if (err instanceof WebhookBodyError) return 'rejected';
    throw err;
  }
}

const ALL = [...allFixtures('line'), ...allFixtures('meta'), ...allFixtures('whatsapp')];
const seeds = ALL.map(([, raw]) => JSON.parse(raw.toString('utf8')) as unknown);

/** A JSON value anywhere a fixture has one: replaced, removed, or given a new key. */
function mutate(value: unknown, path: number[], replacement: unknown, mode: number): unknown {
  if (typeof value !== 'object' || value === null) return replacement;
  const entries: Array<[string | number, unknown]> = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  if (entries.length === 0 || path.length === 0) {
    if (mode === 0) return replacement;
    return Array.isArray(value) ? [...value, replacement] : { ...value, [`k${mode}`]: replacement };
  }
  const [head, ...rest] = path;
  const index = head! % entries.length;
  const copy: Array<[string | number, unknown]> = entries.map(([k, v], i) => [k, i === index ? mutate(v, rest, replacement, mode) : v]);
  if (mode === 2 && rest.length === 0) copy.splice(index, 1);
  return Array.isArray(value) ? copy.map(([, v]) => v) : Object.fromEntries(copy);
}

const KEYS = [
  'type', 'events', 'entry', 'object', 'messaging', 'standby', 'message', 'postback', 'source', 'userId', 'sender', 'id', 'mid', 'text', 'timestamp',
  'payload', 'quick_reply', 'is_echo', 'destination', 'changes', 'field', 'value', 'metadata', 'phone_number_id', 'messages', 'statuses', 'from',
  'from_user_id', 'body', 'interactive', 'button_reply', 'list_reply', 'title', 'button', '__proto__', 'constructor', 'toString',
];
const odd = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(null, true, 0, -1, 1.5, 1e308, -0, '', '\u0000', '\ud800', [], {}, 'message', 'postback', 'page', 'instagram', 'whatsapp_business_account', 'messages', 'interactive', 'button_reply', '1767225600', '__proto__'),
  fc.dictionary(fc.constantFrom(...KEYS), fc.jsonValue(), { maxKeys: 6 }),
);

describe('parsing and normalising never crash', () => {
  it('on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        parseAndNormalise(Buffer.from(bytes));
      }),
      { numRuns: 500 },
    );
  });

  it('on random JSON, including objects with the webhook keys', () => {
    const body = fc.oneof(
      fc.jsonValue(),
      fc.record({ destination: odd, events: fc.array(odd, { maxLength: 8 }) }),
      fc.record({ object: fc.constantFrom('page', 'instagram', 'user', 'whatsapp_business_account', '__proto__', 'constructor', 'toString'), entry: fc.array(fc.record({ id: odd, messaging: fc.array(odd), standby: odd }), { maxLength: 4 }) }),
      fc.record({
        object: fc.constantFrom('whatsapp_business_account', 'page', '__proto__'),
        entry: fc.array(
          fc.record({
            id: odd,
            changes: fc.array(fc.record({ field: fc.oneof(fc.constant('messages'), odd), value: fc.record({ metadata: fc.oneof(odd, fc.record({ phone_number_id: odd })), messages: fc.array(odd, { maxLength: 4 }), statuses: odd }) }), { maxLength: 3 }),
          }),
          { maxLength: 3 },
        ),
      }),
    );
    fc.assert(
      fc.property(body, (value) => {
        parseAndNormalise(Buffer.from(JSON.stringify(value) ?? ''));
      }),
      { numRuns: 1000 },
    );
  });

  it('on every fixture with one value replaced, removed or added anywhere', () => {
    let parsed = 0;
    fc.assert(
      fc.property(fc.constantFrom(...seeds), fc.array(fc.nat(), { minLength: 1, maxLength: 7 }), odd, fc.nat(2), (seed, path, replacement, mode) => {
        const outcome = parseAndNormalise(Buffer.from(JSON.stringify(mutate(seed, path, replacement, mode)) ?? ''));
        if (outcome.line === 'parsed' || outcome.meta === 'parsed') parsed += 1;
      }),
      { numRuns: 2000 },
    );
    // Most mutations leave the top level intact; the property above must have exercised normalising.
    expect(parsed).toBeGreaterThan(1000);
  });

  it('on truncated and byte-flipped fixtures', () => {
    const raws = ALL.map(([, raw]) => raw);
    fc.assert(
      fc.property(fc.constantFrom(...raws), fc.nat(), fc.nat(255), fc.boolean(), (raw, at, byte, truncate) => {
        const i = at % raw.length;
        const mutated = truncate ? raw.subarray(0, i) : Buffer.from(raw);
        if (!truncate) mutated[i] = byte;
        parseAndNormalise(mutated);
      }),
      { numRuns: 1000 },
    );
  });

  it('on deeply nested values where the adapters fingerprint content', () => {
    const deep = (depth: number): string => `${'{"a":['.repeat(depth)}1${']}'.repeat(depth)}`;
    const line = `{"destination":"U1","events":[{"type":"join","timestamp":1,"source":{"type":"group","groupId":"C1"},"x":${deep(100000)}}]}`;
    const meta = `{"object":"page","entry":[{"id":"P","messaging":[{"sender":{"id":"S"},"timestamp":1767225600000,"read":${deep(100000)}}]}]}`;
    const [lineEvent] = lineEvents(Buffer.from(line));
    const [metaEvent] = metaEvents(Buffer.from(meta));
    expect(lineEvent).toMatchObject({ type: 'join', eventId: expect.stringMatching(/^content:[0-9a-f]{32}$/) });
    expect(metaEvent).toMatchObject({ type: 'read', eventId: expect.stringMatching(/^read:[0-9a-f]{32}$/) });
  });

  it('does not let "__proto__" keys change what an event is', () => {
    const raw = '{"object":"page","entry":[{"id":"P","messaging":[{"__proto__":{"message":{"mid":"x","is_echo":true}},"sender":{"id":"S"},"timestamp":1767225600000,"message":{"mid":"m1","text":"hi","__proto__":{"is_echo":true}}}]}]}';
    expect(metaEvents(Buffer.from(raw))).toMatchObject([{ kind: 'message', eventId: 'm1', text: 'hi' }]);
    expect(({} as Record<string, unknown>).is_echo).toBeUndefined();
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'])('takes the object %j for one no platform reads', (object) => {
    const raw = Buffer.from(JSON.stringify({ object, entry: [{ id: 'P', messaging: [{ sender: { id: 'S' }, timestamp: 1767225600000, message: { mid: 'm1', text: 'hi' } }] }] }));
    expect(readMetaEndpoint(raw)).toEqual({ events: [], recipient: 'P', ignored: 0, unusableUsers: [], orderingKey: 'P', unknownObject: object });
  });
});

describe('signature checks never throw', () => {
  it('on any header and any secret, and accept only the right signature', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), fc.option(fc.string({ maxLength: 80 }), { nil: undefined }), fc.string({ minLength: 1, maxLength: 40 }), (bytes, header, secret) => {
        const body = Buffer.from(bytes);
        expect(verifyLineSignature(body, header, secret)).toBe(header === signLine(body, secret));
        expect(verifyMetaSignature(body, header, secret)).toBe(header !== undefined && header.toLowerCase() === signMeta(body, secret));
        expect(verifyLineSignature(body, signLine(body, secret), secret)).toBe(true);
        expect(verifyMetaSignature(body, signMeta(body, secret), secret)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
