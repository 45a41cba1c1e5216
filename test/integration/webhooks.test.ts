import type { IncomingMessage, RequestListener } from 'node:http';
import request from 'supertest';
import type { App } from '../../src/app';
import { requestListener } from '../../src/request-listener';
import { clientAddress } from '../../src/webhook/route';
import { signLine, signMeta } from '../helpers/signatures';
import { lineBody, lineText, recentTimestamp, startHarness, type Harness } from '../helpers/app-harness';

const LINE_SECRET = 'line-channel-secret-for-tests';
const META_SECRET = 'meta-app-secret-for-tests';
const VERIFY_TOKEN = 'verify-me-please';

const env = {
  LINE_CHANNEL_SECRET: LINE_SECRET,
  FACEBOOK_APP_SECRET: META_SECRET,
  FACEBOOK_VERIFY_TOKEN: VERIFY_TOKEN,
  MAX_BODY_BYTES: '20000',
};

/**
 * The whole file runs twice: through the server's request listener (webhook POSTs straight
 * to their route, as `serve` runs) and through the express app itself (which mounts the same routes).
 */
const ENTRIES: [string, (h: Harness) => App | RequestListener][] = [
  ["the server's request listener", (h) => requestListener(h.app)],
  ['the express app', (h) => h.app],
];
let entry: (h: Harness) => App | RequestListener = (h) => h.app;

/** `null` sends no signature header at all. */
function postLine(h: Harness, body: string, signature: string | null = signLine(body, LINE_SECRET)) {
  const r = request(entry(h)).post('/webhooks/line').set('content-type', 'application/json');
  if (signature !== null) r.set('x-line-signature', signature);
  return r.send(body);
}

function postMeta(h: Harness, body: string, signature: string | null = signMeta(body, META_SECRET)) {
  const r = request(entry(h)).post('/webhooks/facebook').set('content-type', 'application/json');
  if (signature !== null) r.set('x-hub-signature-256', signature);
  return r.send(body);
}

describe.each(ENTRIES)('webhook endpoints, through %s', (_name, via) => {
  let h: Harness;
  beforeAll(() => {
    entry = via;
  });
  beforeEach(async () => {
    h = await startHarness(env);
  });
  afterEach(async () => {
    await h.cleanup();
  });

  describe('POST /webhooks/line', () => {
    it('answers 200 {} once the tag operation is stored', async () => {
      const body = lineBody([lineText('我要優惠券！', 'Ucoupon1')]);
      const res = await postLine(h, body);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({});
      const claimed = await h.store.claimOperations({ scope: { account: 'mantago' }, limit: 10, owner: 't', now: Date.now(), leaseMs: 30000 });
      expect(claimed).toHaveLength(1);
      expect(claimed[0]).toMatchObject({ action: 'add', provider: 'mantago', kind: 'personal', tagId: 'tag-coupon', platform: 'line', userId: 'Ucoupon1', recipient: 'Udeadbeefdeadbeefdeadbeefdeadbeef' });
    });

    it("answers 200 to LINE's Verify button (no events)", async () => {
      const res = await postLine(h, JSON.stringify({ destination: 'Uxxxxxxxx', events: [] }));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({});
    });

    it('answers 401 to a missing signature and stores nothing', async () => {
      const res = await postLine(h, lineBody([lineText('coupon')]), null);
      expect(res.status).toBe(401);
      expect(res.body.error).toMatch(/missing x-line-signature/);
      expect((await h.store.status(Date.now())).operations.pending).toBe(0);
    });

    it('answers 401 to a wrong signature and stores nothing', async () => {
      const body = lineBody([lineText('coupon')]);
      const res = await postLine(h, body, signLine(body, 'another-secret'));
      expect(res.status).toBe(401);
      expect(res.body.error).toMatch(/does not match/);
      expect((await h.store.status(Date.now())).operations.pending).toBe(0);
    });

    it('answers 400 with a JSON error to a signed body that is not a LINE webhook', async () => {
      for (const body of ['not json', '[]', '{"destination":"x"}', '{"events":{}}']) {
        const res = await postLine(h, body);
        expect(res.status).toBe(400);
        expect(typeof res.body.error).toBe('string');
      }
    });

    it('answers 400 to a signed body that starts with a byte order mark, saying so', async () => {
      const res = await postLine(h, `\uFEFF${lineBody([lineText('coupon', 'Ubom')])}`);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'not a webhook: body is not JSON: it starts with a byte order mark (U+FEFF), which JSON text must not have' });
      expect((await h.store.status(Date.now())).operations.pending).toBe(0);
    });

    it('answers 413 over MAX_BODY_BYTES, before looking at the signature', async () => {
      const big = lineBody([lineText('x'.repeat(30000))]);
      const res = await postLine(h, big, 'not-even-a-signature');
      expect(res.status).toBe(413);
      expect(res.body.error).toMatch(/MAX_BODY_BYTES \(20000 bytes\)/);
    });

    it('produces nothing for events without a user or of kinds rules cannot ask for', async () => {
      const groupEvent = { ...lineText('coupon'), source: { type: 'group', groupId: 'Cgroup' } };
      const join = { type: 'join', mode: 'active', timestamp: recentTimestamp(), source: { type: 'group', groupId: 'C1' }, webhookEventId: 'join-1', deliveryContext: { isRedelivery: false }, replyToken: 'r' };
      const res = await postLine(h, lineBody([groupEvent, join]));
      expect(res.status).toBe(200);
      expect((await h.store.status(Date.now())).operations.pending).toBe(0);
    });

    it('logs one line per webhook with the matched rules, never the secret, the signature or the text', async () => {
      const body = lineBody([lineText('coupon please', 'Ulog')]);
      const signature = signLine(body, LINE_SECRET);
      await postLine(h, body, signature).expect(200);
      const line = h.logs.parsed().find((l) => l.message === 'webhook accepted');
      expect(line).toMatchObject({ channel: 'line', events: 1, matched: ['coupon'], operations: ['add mantago/personal tag tag-coupon'] });
      expect(typeof line?.requestId).toBe('string');
      expect(typeof line?.ms).toBe('number');
      expect(h.logs.text).not.toContain(LINE_SECRET);
      expect(h.logs.text).not.toContain(signature);
      expect(h.logs.text).not.toContain('coupon please');
    });
  });

  describe('GET /webhooks/facebook', () => {
    it("answers Meta's subscription check with the challenge as plain text", async () => {
      const res = await request(entry(h)).get('/webhooks/facebook').query({ 'hub.mode': 'subscribe', 'hub.verify_token': VERIFY_TOKEN, 'hub.challenge': '1158201444' });
      expect(res.status).toBe(200);
      expect(res.type).toBe('text/plain');
      expect(res.text).toBe('1158201444');
    });

    it('answers 403 to a wrong token or mode', async () => {
      await request(entry(h)).get('/webhooks/facebook').query({ 'hub.mode': 'subscribe', 'hub.verify_token': 'nope', 'hub.challenge': '1' }).expect(403);
      await request(entry(h)).get('/webhooks/facebook').query({ 'hub.mode': 'unsubscribe', 'hub.verify_token': VERIFY_TOKEN, 'hub.challenge': '1' }).expect(403);
    });
  });

  describe('POST /webhooks/facebook', () => {
    const messenger = (text: string, mid: string, sender = 'PSID-1') =>
      JSON.stringify({ object: 'page', entry: [{ id: 'PAGE-1', time: 1, messaging: [{ sender: { id: sender }, recipient: { id: 'PAGE-1' }, timestamp: recentTimestamp(), message: { mid, text } }] }] });

    it('answers 200 and stores the operation of a Messenger message', async () => {
      await postMeta(h, messenger('我要優惠券', 'm-1')).expect(200, {});
      const [op] = await h.store.claimOperations({ scope: { account: 'mantago' }, limit: 10, owner: 't', now: Date.now(), leaseMs: 30000 });
      expect(op).toMatchObject({ platform: 'facebook', recipient: 'PAGE-1', userId: 'PSID-1', tagId: 'tag-coupon', action: 'add' });
    });

    it('verifies over the raw bytes: escaped Chinese and emoji pass where a re-serialized body would not', async () => {
      const raw = `{"object":"page","entry":[{"id":"PAGE-1","time":1,"messaging":[{"sender":{"id":"PSID-9"},"recipient":{"id":"PAGE-1"},"timestamp":${recentTimestamp()},"message":{"mid":"m-esc","text":"\\u6211\\u8981\\u512a\\u60e0\\u5238 \\ud83c\\udf81"}}]}]}`;
      const reserialized = JSON.stringify(JSON.parse(raw));
      expect(reserialized).not.toBe(raw);
      await postMeta(h, raw).expect(200);
      // the same signature does not fit the re-serialized bytes
      await postMeta(h, reserialized, signMeta(raw, META_SECRET)).expect(401);
      const [op] = await h.store.claimOperations({ scope: { account: 'mantago' }, limit: 10, owner: 't', now: Date.now(), leaseMs: 30000 });
      expect(op).toMatchObject({ userId: 'PSID-9', tagId: 'tag-coupon' });
    });

    it('answers 401 / 400 / 413 like the LINE endpoint', async () => {
      await postMeta(h, messenger('x', 'm-2'), null).expect(401);
      await postMeta(h, messenger('x', 'm-2'), 'sha256=00').expect(401);
      await postMeta(h, '{"object":"page"}').expect(400);
      await postMeta(h, 'x'.repeat(25000), 'sha256=00').expect(413);
    });

    it('accepts objects it does not act on, and echoes, with 200 and nothing stored', async () => {
      await postMeta(h, JSON.stringify({ object: 'permissions', entry: [{ id: '1', uid: '1', time: 1, changed_fields: ['email'] }] })).expect(200);
      const echo = JSON.stringify({ object: 'page', entry: [{ id: 'PAGE-1', time: 1, messaging: [{ sender: { id: 'PAGE-1' }, recipient: { id: 'PSID-1' }, timestamp: recentTimestamp(), message: { mid: 'echo-1', is_echo: true, text: 'coupon' } }] }] });
      await postMeta(h, echo).expect(200);
      expect((await h.store.status(Date.now())).operations.pending).toBe(0);
    });

    it.each<unknown>(['__proto__', 'constructor', 'toString', 5, null, { page: 1 }])('takes object %j for an object it does not act on: 200, nothing stored', async (object) => {
      const body = JSON.stringify({ object, entry: [{ id: 'PAGE-1', time: 1, messaging: [{ sender: { id: 'PSID-1' }, recipient: { id: 'PAGE-1' }, timestamp: recentTimestamp(), message: { mid: 'm-odd', text: 'coupon' } }] }] });
      await postMeta(h, body).expect(200, {});
      expect((await h.store.status(Date.now())).operations.pending).toBe(0);
      expect(await h.store.recentEvents(10)).toEqual([]);
    });

    it('takes an object nested thousands deep for an object it does not act on: 200, nothing stored', async () => {
      const depth = 9000; // deeper than JSON.stringify can serialize on the stack, within MAX_BODY_BYTES
      const body = `{"object":${'['.repeat(depth)}${']'.repeat(depth)},"entry":[{"id":"PAGE-1","time":1,"messaging":[]}]}`;
      await postMeta(h, body).expect(200, {});
      expect(await h.store.recentEvents(10)).toEqual([]);
      expect(h.logs.parsed().filter((l) => l.level === 'error')).toEqual([]);
    });

    it('an event whose user id cannot be used produces nothing and is logged; the rest of the webhook is processed', async () => {
      const item = (sender: unknown, mid: string) => ({ sender: { id: sender }, recipient: { id: 'PAGE-1' }, timestamp: recentTimestamp(), message: { mid, text: 'coupon' } });
      const body = JSON.stringify({
        object: 'page',
        entry: [{ id: 'PAGE-1', time: 1, messaging: [item('', 'm-empty'), item('P\u0000X', 'm-control'), item(12345, 'm-number'), item('PSID-ok', 'm-ok')] }],
      });
      await postMeta(h, body).expect(200, {});
      const claimed = await h.store.claimOperations({ scope: { account: 'mantago' }, limit: 10, owner: 't', now: Date.now(), leaseMs: 30000 });
      expect(claimed.map((o) => o.userId)).toEqual(['PSID-ok']);
      const warnings = h.logs.parsed().filter((l) => l.message === 'event kept without a user: its user id cannot be used');
      expect(warnings.map((w) => [w.eventId, w.problem, w.channel])).toEqual([
        ['m-empty', 'the user id is empty', 'facebook'],
        ['m-control', 'the user id holds control characters', 'facebook'],
        ['m-number', 'the user id is a number, not a string', 'facebook'],
      ]);
    });
  });

  it('a platform whose secret is not set answers 503 before anything else', async () => {
    const bare = await startHarness({ MAX_BODY_BYTES: '10' });
    try {
      const line = await request(bare.app).post('/webhooks/line').send('x'.repeat(100));
      expect(line.status).toBe(503);
      expect(line.body.error).toMatch(/LINE_CHANNEL_SECRET is not set/);
      const fb = await request(bare.app).post('/webhooks/facebook').send('{}');
      expect(fb.status).toBe(503);
      expect(fb.body.error).toMatch(/FACEBOOK_APP_SECRET is not set/);
      await request(bare.app).get('/webhooks/facebook').query({ 'hub.mode': 'subscribe', 'hub.verify_token': '', 'hub.challenge': '1' }).expect(403);
    } finally {
      await bare.cleanup();
    }
  });

  it('a redelivered event produces its operations once', async () => {
    const event = lineText('coupon', 'Uonce');
    for (let i = 0; i < 3; i++) await postLine(h, lineBody([event])).expect(200);
    const status = await h.store.status(Date.now());
    expect(status.operations.pending).toBe(1);
    const claimed = await h.store.claimOperations({ scope: { account: 'mantago' }, limit: 10, owner: 't', now: Date.now(), leaseMs: 30000 });
    expect(claimed).toHaveLength(1);
    expect(claimed[0]?.version).toBe(1);
  });

  it('health, readiness and metrics', async () => {
    await request(entry(h)).get('/healthz').expect(200, { status: 'ok' });
    const ready = await request(entry(h)).get('/readyz');
    expect(ready.status).toBe(200);
    await postLine(h, lineBody([lineText('coupon', 'Umetrics')])).expect(200);
    await postLine(h, lineBody([lineText('coupon')]), 'bad').expect(401);
    const metrics = await request(entry(h)).get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/autotag_webhooks_total\{platform="line",channel="line",outcome="accepted"\} 1/);
    expect(metrics.text).toMatch(/autotag_webhooks_total\{platform="line",channel="line",outcome="unauthorized"\} 1/);
    expect(metrics.text).toMatch(/autotag_rule_matches_total\{rule="coupon"\} 1/);
    expect(metrics.text).toMatch(/autotag_queue_depth\{queue="operations",state="pending"\} 1/);
    expect(metrics.text).toMatch(/autotag_dead_letters\{queue="operations"\} 0/);
    expect(metrics.text).toMatch(/autotag_http_request_duration_seconds_bucket/);
    expect(metrics.text).not.toContain(LINE_SECRET);
  });

  it('a redelivered event is not counted again in autotag_rule_matches_total (as on /admin)', async () => {
    const body = lineBody([lineText('coupon', 'Uredelivered'), lineText('coupon', 'Uredelivered2')]);
    await postLine(h, body).expect(200);
    await postLine(h, body).expect(200); // LINE's redelivery: the same events, stored once
    const metrics = await request(entry(h)).get('/metrics');
    expect(metrics.text).toMatch(/^autotag_rule_matches_total\{rule="coupon"\} 2$/m);
    // Events inside accepted webhooks still count what arrived.
    expect(metrics.text).toMatch(/^autotag_webhook_events_total\{platform="line",channel="line",kind="message"\} 4$/m);
  });

  it('a webhook holding one event seen before and one new one counts the new one\'s matches, and only those', async () => {
    const seen = lineText('coupon', 'Upartial');
    await postLine(h, lineBody([seen])).expect(200);
    await postLine(h, lineBody([seen, lineText('coupon', 'Upartial2')])).expect(200);
    const metrics = await request(entry(h)).get('/metrics');
    expect(metrics.text).toMatch(/^autotag_rule_matches_total\{rule="coupon"\} 2$/m);
  });

  it('/admin is 404 without ADMIN_TOKEN', async () => {
    await request(entry(h)).get('/admin').expect(404);
  });

  it('another method on a webhook endpoint is 405 with Allow and a JSON error', async () => {
    const put = await request(entry(h)).put('/webhooks/line').send('{}');
    expect([put.status, put.headers.allow, put.body]).toEqual([405, 'POST', { error: 'PUT is not allowed on /webhooks/line: it takes POST' }]);
    const get = await request(entry(h)).get('/webhooks/line');
    expect([get.status, get.headers.allow]).toEqual([405, 'POST']);
    const del = await request(entry(h)).delete('/webhooks/facebook');
    expect([del.status, del.headers.allow, del.body.error]).toEqual([405, 'GET, HEAD, POST', 'DELETE is not allowed on /webhooks/facebook: it takes GET, POST']);
    // An unknown path stays 404.
    await request(entry(h)).put('/webhooks/nowhere').expect(404);
  });

  it('another method on /healthz, /readyz or /metrics is 405 with Allow, and HEAD is a GET without a body', async () => {
    for (const route of ['/healthz', '/readyz', '/metrics']) {
      const post = await request(entry(h)).post(route).send('{}');
      expect([post.status, post.headers.allow, post.body]).toEqual([405, 'GET, HEAD', { error: `POST is not allowed on ${route}: it takes GET` }]);
      const head = await request(entry(h)).head(route);
      expect([head.status, head.text]).toEqual([200, undefined]);
    }
  });

  it('a rejected webhook is logged with the client address TRUST_PROXY_HOPS reads (1: the last hop of X-Forwarded-For)', async () => {
    const body = lineBody([lineText('coupon', 'Uip')]);
    const forged = request(entry(h)).post('/webhooks/line').set('content-type', 'application/json').set('x-forwarded-for', '198.51.100.9, 203.0.113.7');
    await forged.set('x-line-signature', signLine(body, 'not-the-secret')).send(body).expect(401);
    await request(entry(h)).post('/webhooks/line').set('x-forwarded-for', '203.0.113.8').send(body).expect(401);
    const rejected = h.logs.parsed().filter((l) => String(l.message).startsWith('webhook rejected'));
    expect(rejected.map((l) => l.ip)).toEqual(['203.0.113.7', '203.0.113.8']);
  });
});

describe('clientAddress', () => {
  const req = (forwarded: string | undefined, socket = '10.0.0.1') => ({ headers: forwarded === undefined ? {} : { 'x-forwarded-for': forwarded }, socket: { remoteAddress: socket } }) as unknown as IncomingMessage;
  it('reads as many hops from the right as TRUST_PROXY_HOPS says, the socket counting as the last', () => {
    expect(clientAddress(req('1.1.1.1, 2.2.2.2'), 0)).toBe('10.0.0.1');
    expect(clientAddress(req('1.1.1.1, 2.2.2.2'), 1)).toBe('2.2.2.2');
    expect(clientAddress(req('1.1.1.1, 2.2.2.2'), 2)).toBe('1.1.1.1');
    expect(clientAddress(req('1.1.1.1, 2.2.2.2'), 5)).toBe('1.1.1.1');
    expect(clientAddress(req(undefined), 1)).toBe('10.0.0.1');
  });
});
