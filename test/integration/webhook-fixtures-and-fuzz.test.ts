import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import request from 'supertest';
import { signLine, signMeta } from '../helpers/signatures';
import { startHarness, type Harness } from '../helpers/app-harness';
import { describeEachEngine } from '../helpers/engines';
import { freshFixture } from '../helpers/fresh-fixture';

const LINE_SECRET = 'fixture-line-secret';
const META_SECRET = 'fixture-meta-secret';
const WHATSAPP_SECRET = 'fixture-whatsapp-secret';
const FIXTURES = path.resolve(__dirname, '../fixtures');
const fixtures = (platform: 'line' | 'meta' | 'whatsapp') =>
  fs.readdirSync(path.join(FIXTURES, platform)).filter((f) => f.endsWith('.json')).map((f) => ({ name: f, raw: freshFixture(fs.readFileSync(path.join(FIXTURES, platform, f), 'utf8')) }));

const RULES = {
  'everything.yaml': `
defaults: { provider: mantago }
rules:
  - id: any-message
    when: { event: message }
    then: [ { add_tag: tag-message } ]
  - id: any-postback
    when: { event: postback }
    then: [ { add_tag: tag-postback } ]
  - id: any-follow
    when: { event: [follow, unfollow] }
    then: [ { add_tag: tag-follow } ]
`,
};

describe('every real-format payload through the app', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ LINE_CHANNEL_SECRET: LINE_SECRET, FACEBOOK_APP_SECRET: META_SECRET, WHATSAPP_APP_SECRET: WHATSAPP_SECRET }, RULES);
  });
  afterAll(async () => {
    await h.cleanup();
  });

  it.each(fixtures('line').map((f) => [f.name, f.raw] as const))('LINE %s → 200', async (_name, raw) => {
    await request(h.app).post('/webhooks/line').set('content-type', 'application/json').set('x-line-signature', signLine(raw, LINE_SECRET)).send(raw).expect(200, {});
  });

  it.each(fixtures('meta').map((f) => [f.name, f.raw] as const))('Meta %s → 200', async (_name, raw) => {
    await request(h.app).post('/webhooks/facebook').set('content-type', 'application/json').set('x-hub-signature-256', signMeta(raw, META_SECRET)).send(raw).expect(200, {});
  });

  it.each(fixtures('whatsapp').map((f) => [f.name, f.raw] as const))('WhatsApp %s → 200 on /webhooks/whatsapp and on /webhooks/facebook', async (_name, raw) => {
    await request(h.app).post('/webhooks/whatsapp').set('content-type', 'application/json').set('x-hub-signature-256', signMeta(raw, WHATSAPP_SECRET)).send(raw).expect(200, {});
    await request(h.app).post('/webhooks/facebook').set('content-type', 'application/json').set('x-hub-signature-256', signMeta(raw, META_SECRET)).send(raw).expect(200, {});
  });

  it('queued an operation for the user events among them, and none for echoes or events without a user', async () => {
    const status = await h.store.status(Date.now());
    // fixtures share users, and one user's identical changes are one desired-state row
    expect(status.operations.pending).toBeGreaterThanOrEqual(5);
    const ops = await h.store.claimOperations({ scope: { account: 'mantago' }, limit: 1000, owner: 'fx', now: Date.now(), leaseMs: 60_000 });
    const users = new Set(ops.map((o) => o.userId));
    expect(users.has('')).toBe(false);
    // Instagram echo fixtures come from the account itself: its id never gets a tag
    const echo = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'meta', 'messenger-echo.json'), 'utf8')) as { entry: { messaging: { sender: { id: string } }[] }[] };
    expect(users.has(echo.entry[0]!.messaging[0]!.sender.id)).toBe(false);
    // Every WhatsApp message is a message event of its sender (wa_id, or the business-scoped id); statuses are none.
    const whatsapp = ops.filter((o) => o.platform === 'whatsapp');
    expect(new Set(whatsapp.map((o) => o.userId))).toEqual(new Set(['886912345678', '886987654321', 'US.13491208655302741918']));
    // Each event is written to the phone number of its change; a user's tag is one row whichever number they wrote to
    // (MantaGo knows the person by platform and wa_id), holding the latest event's number.
    const numbers = new Set(['106540352242922', '113469928305574', '109876543210987']);
    const events = (await h.store.recentEvents(1000)).filter((e) => e.platform === 'whatsapp');
    expect(new Set(events.map((e) => e.recipient))).toEqual(numbers);
    for (const o of whatsapp) expect(numbers.has(o.recipient)).toBe(true);
  });
});

describeEachEngine('fuzz: random and mutated bodies never produce a 5xx', (on) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ LINE_CHANNEL_SECRET: LINE_SECRET, FACEBOOK_APP_SECRET: META_SECRET, WHATSAPP_APP_SECRET: WHATSAPP_SECRET, MAX_BODY_BYTES: '65536', HISTORY_STORE_TEXT: '1' }, RULES, on);
  });
  afterAll(async () => {
    await h.cleanup();
  });

  type Endpoint = 'line' | 'facebook' | 'whatsapp';
  const ENDPOINTS: Endpoint[] = ['line', 'facebook', 'whatsapp'];
  const seeds = [
    ...fixtures('line').map((f) => ({ endpoint: 'line' as Endpoint, raw: f.raw })),
    ...fixtures('meta').map((f) => ({ endpoint: 'facebook' as Endpoint, raw: f.raw })),
    ...fixtures('whatsapp').flatMap((f) => [{ endpoint: 'whatsapp' as Endpoint, raw: f.raw }, { endpoint: 'facebook' as Endpoint, raw: f.raw }]),
  ];

  /** Replaces, deletes or inserts characters of a real payload: near-valid JSON and broken JSON alike. */
  const mutated = fc
    .record({
      seed: fc.constantFrom(...seeds),
      edits: fc.array(fc.record({ at: fc.nat(), del: fc.nat({ max: 8 }), ins: fc.string({ maxLength: 8 }) }), { maxLength: 4 }),
    })
    .map(({ seed, edits }) => {
      let s = seed.raw;
      for (const e of edits) {
        const at = s.length === 0 ? 0 : e.at % s.length;
        s = s.slice(0, at) + e.ins + s.slice(at + e.del);
      }
      return { endpoint: seed.endpoint, raw: s };
    });
  const randomJson = fc.record({ endpoint: fc.constantFrom(...ENDPOINTS), raw: fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null') });
  const randomBytes = fc.record({ endpoint: fc.constantFrom(...ENDPOINTS), raw: fc.string({ maxLength: 300 }) });
  const OBJECTS = ['page', 'instagram', 'whatsapp_business_account', 'other', '__proto__', 'constructor', 'toString'];
  const waMessage = fc.record(
    { from: fc.anything(), from_user_id: fc.anything(), id: fc.anything(), timestamp: fc.oneof(fc.anything(), fc.nat().map(String)), type: fc.constantFrom('text', 'interactive', 'button', 'image', 'x'), text: fc.anything(), interactive: fc.anything(), button: fc.anything() },
    { requiredKeys: [] },
  );
  const waChange = fc.record(
    { field: fc.constantFrom('messages', 'other', 7), value: fc.record({ metadata: fc.oneof(fc.anything(), fc.record({ phone_number_id: fc.anything() })), messages: fc.array(waMessage, { maxLength: 4 }), statuses: fc.anything() }, { requiredKeys: [] }) },
    { requiredKeys: [] },
  );
  const shaped = fc.record({
    endpoint: fc.constantFrom(...ENDPOINTS),
    raw: fc.oneof(
      fc.record({ destination: fc.anything(), events: fc.array(fc.anything(), { maxLength: 5 }) }),
      fc.record({ object: fc.constantFrom(...OBJECTS), entry: fc.array(fc.record({ id: fc.anything(), messaging: fc.array(fc.anything(), { maxLength: 4 }), standby: fc.anything() }, { requiredKeys: [] }), { maxLength: 3 }) }),
      fc.record({ object: fc.constantFrom(...OBJECTS), entry: fc.array(fc.record({ id: fc.anything(), changes: fc.array(waChange, { maxLength: 3 }) }, { requiredKeys: [] }), { maxLength: 3 }) }),
    ).map((v) => JSON.stringify(v)),
  });

  /*
   * Inputs that broke something in issue 17, in every id and text field: U+0000 and other
   * control characters (PostgreSQL refused whole webhooks), prototype keys, lone surrogates,
   * and event times 9 days old (replays), 7 days old, in the future and at the epoch.
   */
  const DAY_MS = 86_400_000;
  const hostileString = fc.oneof(
    fc.constantFrom('\u0000', 'a\u0000b', 'coupon\u0000', '\u0001\u001f\u007f\u0085', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '\ud800', '', ' ', 'coupon', 'x'.repeat(300)),
    fc.string({ maxLength: 12 }).map((t) => `${t}\u0000${t}`),
    fc.string({ maxLength: 20 }),
  );
  const hostileTime = fc.constantFrom(-9 * DAY_MS, -8 * DAY_MS - 60_000, -7 * DAY_MS, -60_000, DAY_MS).map((offset) => Date.now() + offset);
  const lineEvent = fc.record({
    type: fc.constantFrom('message', 'postback', 'follow', 'unfollow', '__proto__'),
    mode: fc.constant('active'),
    timestamp: fc.oneof(hostileTime, fc.constant(0)),
    source: fc.record({ type: fc.constantFrom('user', 'group'), userId: fc.oneof(hostileString, fc.constant('Ufuzz-user')) }),
    webhookEventId: hostileString,
    deliveryContext: fc.record({ isRedelivery: fc.boolean() }),
    replyToken: fc.constant('r'),
    message: fc.record({ id: hostileString, type: fc.oneof(fc.constant('text'), hostileString), text: hostileString }),
    postback: fc.record({ data: hostileString }),
  });
  const metaItem = fc.record({
    sender: fc.record({ id: fc.oneof(hostileString, fc.constant('PSID-fuzz')) }),
    recipient: fc.record({ id: hostileString }),
    timestamp: hostileTime,
    message: fc.record({ mid: hostileString, text: hostileString, quick_reply: fc.record({ payload: hostileString }) }, { requiredKeys: ['mid'] }),
    postback: fc.record({ mid: hostileString, title: hostileString, payload: hostileString }),
  }, { requiredKeys: ['sender', 'timestamp'] });
  const waText = fc.record({ from: hostileString, id: hostileString, timestamp: hostileTime.map((t) => String(Math.floor(t / 1000))), type: fc.constantFrom('text', 'button'), text: fc.record({ body: hostileString }), button: fc.record({ text: hostileString, payload: hostileString }) });
  const hostile = fc.oneof(
    fc.record({ endpoint: fc.constant<Endpoint>('line'), raw: fc.record({ destination: hostileString, events: fc.array(lineEvent, { minLength: 1, maxLength: 4 }) }).map((v) => JSON.stringify(v)) }),
    fc.record({ endpoint: fc.constant<Endpoint>('facebook'), raw: fc.record({ object: fc.constantFrom(...OBJECTS), entry: fc.array(fc.record({ id: hostileString, time: hostileTime, messaging: fc.array(metaItem, { minLength: 1, maxLength: 4 }) }), { minLength: 1, maxLength: 2 }) }).map((v) => JSON.stringify(v)) }),
    fc.record({
      endpoint: fc.constantFrom<Endpoint>('whatsapp', 'facebook'),
      raw: fc.record({ object: fc.constantFrom('whatsapp_business_account', '__proto__'), entry: fc.array(fc.record({ id: hostileString, changes: fc.array(fc.record({ field: fc.constant('messages'), value: fc.record({ metadata: fc.record({ phone_number_id: hostileString }), messages: fc.array(waText, { minLength: 1, maxLength: 3 }) }) }), { minLength: 1, maxLength: 2 }) }), { minLength: 1, maxLength: 2 }) }).map((v) => JSON.stringify(v)),
    }),
  );

  it('signed or not, every answer is 200, 400, 401 or 413 and the app keeps working', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutated, randomJson, randomBytes, shaped, hostile), fc.constantFrom('signed', 'unsigned', 'wrong'), async ({ endpoint, raw }, signing) => {
        const header = endpoint === 'line' ? 'x-line-signature' : 'x-hub-signature-256';
        const secret = endpoint === 'whatsapp' ? WHATSAPP_SECRET : META_SECRET;
        const sign = endpoint === 'line' ? (b: string) => signLine(b, LINE_SECRET) : (b: string) => signMeta(b, secret);
        const r = request(h.app).post(`/webhooks/${endpoint}`).set('content-type', 'application/json');
        if (signing === 'signed') r.set(header, sign(raw));
        if (signing === 'wrong') r.set(header, sign(raw + ' '));
        const res = await r.send(raw);
        expect([200, 400, 401, 413]).toContain(res.status);
        if (signing !== 'signed') expect(res.status).toBe(401);
        expect(res.headers['content-type']).toMatch(/application\/json/);
      }),
      { numRuns: 300 },
    );
    await request(h.app).get('/healthz').expect(200);
    await request(h.app).get('/readyz').expect(200);
  });

  it('hostile ids, texts and times, signed: always 200, replays counted, the store still ready', async () => {
    await fc.assert(
      fc.asyncProperty(hostile, async ({ endpoint, raw }) => {
        const sign = endpoint === 'line' ? signLine(raw, LINE_SECRET) : signMeta(raw, endpoint === 'whatsapp' ? WHATSAPP_SECRET : META_SECRET);
        const res = await request(h.app).post(`/webhooks/${endpoint}`).set('content-type', 'application/json').set(endpoint === 'line' ? 'x-line-signature' : 'x-hub-signature-256', sign).send(raw);
        expect(res.status).toBe(200);
      }),
      { numRuns: 200 },
    );
    // Some of them were replays, counted rather than acted on.
    expect((await request(h.app).get('/metrics')).text).toMatch(/^autotag_stale_events_total\{platform="(line|facebook|instagram|whatsapp)",channel="\w+"\} [1-9]/m);
    await request(h.app).get('/readyz').expect(200);
  });
});
