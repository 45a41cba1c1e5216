import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { startFakeBotbonnie, startFakeMantago, type FakeBotbonnie, type FakeMantago } from '../helpers/fake-tag-api';
import { signMeta } from '../helpers/signatures';
import { recentTimestamp, startHarness, type Harness } from '../helpers/app-harness';
import { freshFixture } from '../helpers/fresh-fixture';
import { startDelivery, type RunningDelivery } from '../helpers/delivery-harness';
import { Downstream } from '../helpers/downstream';

/*
 * WhatsApp Cloud API webhooks through the real app: signed as Meta signs them,
 * answered, stored, forwarded and delivered to a fake MantaGo that records what it got.
 */

const WHATSAPP_SECRET = 'whatsapp-app-secret-for-tests';
const FACEBOOK_SECRET = 'facebook-app-secret-for-tests';
const PNID = '106540352242922';
const USER = '886912345678';
const FIXTURES = path.resolve(__dirname, '../fixtures/whatsapp');
const fixture = (name: string) => freshFixture(fs.readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8'));

const RULES = {
  'rules.yaml': `
defaults: { provider: mantago }
rules:
  - id: coupon
    when: { platform: whatsapp, text: { contains: [優惠券, coupon] } }
    then: [ { add_tag: tag-wa-coupon } ]
  - id: vip-button
    when: { postback: VIP }
    then: [ { add_tag: tag-vip } ]
  - id: unsubscribe-button
    when: { postback: UNSUBSCRIBE_PROMOS }
    then: [ { remove_tag: tag-promos } ]
  - id: bonnie-too
    when: { text: { contains: 優惠券 } }
    then: [ { add_tag: bb-coupon, provider: botbonnie } ]
`,
};

function post(h: Harness, endpoint: 'whatsapp' | 'facebook', body: string, secret: string | null) {
  const r = request(h.app).post(`/webhooks/${endpoint}`).set('content-type', 'application/json');
  if (secret !== null) r.set('x-hub-signature-256', signMeta(body, secret));
  return r.send(body);
}

async function claimAll(h: Harness) {
  return h.store.claimOperations({ scope: { account: 'mantago' }, limit: 100, owner: 't', now: Date.now(), leaseMs: 30_000 });
}

describe('WhatsApp webhooks', () => {
  let h: Harness;
  afterEach(async () => {
    await h.cleanup();
  });

  describe('with a WhatsApp secret of its own', () => {
    beforeEach(async () => {
      h = await startHarness({ WHATSAPP_APP_SECRET: WHATSAPP_SECRET, FACEBOOK_APP_SECRET: FACEBOOK_SECRET, WHATSAPP_VERIFY_TOKEN: 'wa-token', FACEBOOK_VERIFY_TOKEN: 'fb-token' }, RULES);
    });

    it('POST /webhooks/whatsapp: 200 once the operation of a text message is stored', async () => {
      await post(h, 'whatsapp', fixture('text'), WHATSAPP_SECRET).expect(200, {});
      expect((await claimAll(h)).map((o) => [o.platform, o.recipient, o.userId, o.tagId, o.action])).toEqual([['whatsapp', PNID, USER, 'tag-wa-coupon', 'add']]);
      const [event] = await h.store.recentEvents(10);
      expect(event).toMatchObject({ platform: 'whatsapp', recipient: PNID, userId: USER, kind: 'message', type: 'message/text', matched: ['coupon', 'bonnie-too'] });
    });

    it('verifies with WHATSAPP_APP_SECRET only: the Facebook secret, a missing or a garbled signature is 401', async () => {
      await post(h, 'whatsapp', fixture('text'), FACEBOOK_SECRET).expect(401);
      await post(h, 'whatsapp', fixture('text'), null).expect(401);
      const garbled = await request(h.app).post('/webhooks/whatsapp').set('x-hub-signature-256', 'sha256=zz').send(fixture('text'));
      expect(garbled.status).toBe(401);
      expect(await claimAll(h)).toEqual([]);
    });

    it('answers 400 to a body that is not a Meta webhook', async () => {
      const res = await post(h, 'whatsapp', '{"object":"whatsapp_business_account"}', WHATSAPP_SECRET).expect(400);
      expect(res.body.error).toMatch(/`entry` must be an array/);
    });

    it('takes button replies, list replies and template buttons as text with postback data', async () => {
      await post(h, 'whatsapp', fixture('batch-several-numbers'), WHATSAPP_SECRET).expect(200);
      await post(h, 'whatsapp', fixture('template-button'), WHATSAPP_SECRET).expect(200);
      const ops = (await claimAll(h)).map((o) => [o.tagId, o.action, o.recipient, o.userId]).sort();
      expect(ops).toEqual([
        ['tag-promos', 'remove', PNID, USER],
        ['tag-vip', 'add', '113469928305574', USER],
        ['tag-wa-coupon', 'add', PNID, USER],
      ]);
    });

    it('statuses, media and other changes: 200 and nothing to tag', async () => {
      for (const name of ['status-sent', 'status-delivered', 'status-read', 'status-failed', 'image', 'sticker', 'reaction', 'location', 'unknown-fields']) {
        await post(h, 'whatsapp', fixture(name), WHATSAPP_SECRET).expect(200, {});
      }
      // unknown-fields holds one coupon text; nothing else asks for a tag.
      expect((await claimAll(h)).map((o) => o.tagId)).toEqual(['tag-wa-coupon']);
      // Statuses are not events: only messages reach the history.
      expect((await h.store.recentEvents(50)).every((e) => e.kind === 'message')).toBe(true);
    });

    it('a message delivered twice produces its operations once (deduplicated by wamid)', async () => {
      for (let i = 0; i < 3; i++) await post(h, 'whatsapp', fixture('text'), WHATSAPP_SECRET).expect(200);
      const ops = await claimAll(h);
      expect(ops).toHaveLength(1);
      expect(ops[0]?.version).toBe(1);
    });

    it('a user without a phone number is tagged by their business-scoped user id', async () => {
      await post(h, 'whatsapp', fixture('username-without-phone'), WHATSAPP_SECRET).expect(200);
      expect((await claimAll(h)).map((o) => o.userId)).toEqual(['US.13491208655302741918']);
    });

    it('a `from` that cannot be a user id produces nothing and is logged; the other messages are processed', async () => {
      const body = JSON.parse(fixture('batch-several-numbers')) as { entry: { changes: { value: { messages?: Record<string, unknown>[] } }[] }[] };
      body.entry[0]!.changes[0]!.value.messages![0]!.from = 'x'.repeat(300);
      const raw = JSON.stringify(body);
      await post(h, 'whatsapp', raw, WHATSAPP_SECRET).expect(200);
      expect((await claimAll(h)).map((o) => o.userId).sort()).toEqual([USER]);
      const warnings = h.logs.parsed().filter((l) => l.message === 'event kept without a user: its user id cannot be used');
      expect(warnings.map((w) => [w.channel, w.problem])).toEqual([['whatsapp', 'the user id is 300 characters long (at most 256)']]);
      expect(h.logs.text).not.toContain('x'.repeat(300));
    });

    it('a change it cannot read (no metadata.phone_number_id) is answered 200 with the rest and said in a warning, not dropped silently', async () => {
      const unreadable = JSON.parse(fixture('text')) as { entry: { changes: { value: Record<string, unknown> }[] }[] };
      delete unreadable.entry[0]!.changes[0]!.value.metadata;
      const body = JSON.parse(fixture('batch-several-numbers')) as { entry: unknown[] };
      body.entry.push(...unreadable.entry);
      await post(h, 'whatsapp', JSON.stringify(body), WHATSAPP_SECRET).expect(200);
      expect((await claimAll(h)).length).toBeGreaterThan(0);
      const warnings = h.logs.parsed().filter((l) => String(l.message).startsWith('events ignored: their shape cannot be read'));
      expect(warnings.map((w) => w.ignored)).toEqual([1]);
      expect(h.logs.parsed().find((l) => l.message === 'webhook accepted')).toMatchObject({ ignored: 1 });
    });

    it('/webhooks/facebook accepts WhatsApp bodies too, verified with the Facebook secret, on the facebook channel', async () => {
      await post(h, 'facebook', fixture('text'), FACEBOOK_SECRET).expect(200, {});
      expect((await claimAll(h)).map((o) => [o.platform, o.recipient, o.userId])).toEqual([['whatsapp', PNID, USER]]);
      const accepted = h.logs.parsed().find((l) => l.message === 'webhook accepted');
      expect(accepted).toMatchObject({ channel: 'facebook', events: 1 });
    });

    it('/webhooks/whatsapp does not read Messenger bodies: 200 and nothing', async () => {
      const page = JSON.stringify({ object: 'page', entry: [{ id: 'PAGE-1', time: 1, messaging: [{ sender: { id: 'PSID-1' }, recipient: { id: 'PAGE-1' }, timestamp: recentTimestamp(), message: { mid: 'm-1', text: 'coupon' } }] }] });
      await post(h, 'whatsapp', page, WHATSAPP_SECRET).expect(200, {});
      expect(await h.store.recentEvents(10)).toEqual([]);
    });

    it("GET /webhooks/whatsapp answers Meta's subscription check with WHATSAPP_VERIFY_TOKEN", async () => {
      const ok = await request(h.app).get('/webhooks/whatsapp').query({ 'hub.mode': 'subscribe', 'hub.verify_token': 'wa-token', 'hub.challenge': '8812' });
      expect([ok.status, ok.type, ok.text]).toEqual([200, 'text/plain', '8812']);
      const wrong = await request(h.app).get('/webhooks/whatsapp').query({ 'hub.mode': 'subscribe', 'hub.verify_token': 'fb-token', 'hub.challenge': '1' });
      expect(wrong.status).toBe(403);
      expect(wrong.body.error).toBe('hub.mode must be subscribe and hub.verify_token must match WHATSAPP_VERIFY_TOKEN (when unset, FACEBOOK_VERIFY_TOKEN)');
      await request(h.app).get('/webhooks/facebook').query({ 'hub.mode': 'subscribe', 'hub.verify_token': 'fb-token', 'hub.challenge': '2' }).expect(200, '2');
      // The right mode and token without one challenge: 403 saying so, not blaming the token.
      const none = await request(h.app).get('/webhooks/whatsapp').query({ 'hub.mode': 'subscribe', 'hub.verify_token': 'wa-token' });
      expect([none.status, none.body]).toEqual([403, { error: 'hub.challenge must be given once (got none): it is the text answered back' }]);
      const twice = await request(h.app).get('/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=wa-token&hub.challenge=1&hub.challenge=2');
      expect([twice.status, twice.body]).toEqual([403, { error: 'hub.challenge must be given once (got several): it is the text answered back' }]);
    });

    it('counts WhatsApp events in the metrics by platform, and the endpoint by its channel', async () => {
      await post(h, 'whatsapp', fixture('text'), WHATSAPP_SECRET).expect(200);
      const metrics = await request(h.app).get('/metrics');
      expect(metrics.text).toMatch(/autotag_webhooks_total\{platform="whatsapp",channel="whatsapp",outcome="accepted"\} 1/);
      expect(metrics.text).toMatch(/autotag_webhook_events_total\{platform="whatsapp",channel="whatsapp",kind="message"\} 1/);
      expect(metrics.text).not.toContain(WHATSAPP_SECRET);
    });
  });

  it('without WHATSAPP_APP_SECRET and WHATSAPP_VERIFY_TOKEN the Facebook ones serve /webhooks/whatsapp', async () => {
    h = await startHarness({ FACEBOOK_APP_SECRET: FACEBOOK_SECRET, FACEBOOK_VERIFY_TOKEN: 'fb-token' }, RULES);
    await post(h, 'whatsapp', fixture('text'), FACEBOOK_SECRET).expect(200, {});
    expect((await claimAll(h)).map((o) => o.platform)).toEqual(['whatsapp']);
    await request(h.app).get('/webhooks/whatsapp').query({ 'hub.mode': 'subscribe', 'hub.verify_token': 'fb-token', 'hub.challenge': '3' }).expect(200, '3');
  });

  it('with neither secret /webhooks/whatsapp answers 503 naming both variables, and its check 403', async () => {
    h = await startHarness({ MAX_BODY_BYTES: '10' }, RULES);
    const res = await request(h.app).post('/webhooks/whatsapp').send('x'.repeat(100));
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('neither WHATSAPP_APP_SECRET nor FACEBOOK_APP_SECRET is set: this endpoint is disabled');
    const check = await request(h.app).get('/webhooks/whatsapp').query({ 'hub.mode': 'subscribe', 'hub.verify_token': '', 'hub.challenge': '1' });
    expect(check.status).toBe(403);
    expect(check.body.error).toBe('neither WHATSAPP_VERIFY_TOKEN nor FACEBOOK_VERIFY_TOKEN is set');
  });
});

describe('WhatsApp webhooks, delivered', () => {
  let h: Harness;
  let mantago: FakeMantago;
  let bb: FakeBotbonnie;
  let running: RunningDelivery | undefined;
  let downstream: Downstream;

  beforeEach(async () => {
    mantago = await startFakeMantago({ latencyMs: 2 });
    bb = await startFakeBotbonnie();
    downstream = await Downstream.start();
    const env = {
      WHATSAPP_APP_SECRET: WHATSAPP_SECRET,
      WHATSAPP_FORWARD_URLS: `${downstream.url}/wa-hook`,
      MANTAGO_BASE_URL: mantago.baseUrl,
      MANTAGO_BOT_ID: mantago.botId,
      MANTAGO_TOKEN: mantago.token,
      MANTAGO_SECRET: mantago.secret,
      BOTBONNIE_BASE_URL: bb.baseUrl,
      BOTBONNIE_TOKEN: bb.token,
      RETRY_MIN_MS: '20',
      RETRY_MAX_MS: '100',
    };
    h = await startHarness(env, RULES);
    running = await startDelivery(h, env);
  });
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await h.cleanup();
    await mantago.close();
    await bb.close();
    await downstream.close();
  });

  it('MantaGo gets platform "whatsapp" and the wa_id; BotBonnie is skipped with a warning', async () => {
    await post(h, 'whatsapp', fixture('text'), WHATSAPP_SECRET).expect(200);
    await running!.waitForOutcomes(1);
    expect(mantago.tagRequests.map((r) => [r.path, r.body])).toEqual([
      ['/api/openapi/personalTagMapping', { secret: mantago.secret, tagId: 'tag-wa-coupon', platform: 'whatsapp', platformClientId: USER }],
    ]);
    expect(mantago.personalTagsOf('whatsapp', USER)).toEqual(['tag-wa-coupon']);
    expect(bb.requests).toEqual([]);
    const skipped = h.logs.parsed().filter((l) => l.message === 'tag action skipped');
    expect(skipped.map((l) => [l.provider, l.tagId, l.platform, l.reason])).toEqual([
      ['botbonnie', 'bb-coupon', 'whatsapp', 'whatsapp users are not BotBonnie users (BotBonnie tags line and facebook users)'],
    ]);
  });

  it('a business-scoped user id reaches MantaGo as platformClientId, and a remove goes to the delete endpoint', async () => {
    await post(h, 'whatsapp', fixture('username-without-phone'), WHATSAPP_SECRET).expect(200);
    await post(h, 'whatsapp', fixture('template-button'), WHATSAPP_SECRET).expect(200);
    await running!.waitForOutcomes(2);
    const sent = mantago.tagRequests.map((r) => [r.path, ...['platform', 'platformClientId', 'tagId'].map((k) => (r.body as Record<string, unknown>)[k])]);
    expect(sent.sort()).toEqual([
      ['/api/openapi/personalTagMapping', 'whatsapp', 'US.13491208655302741918', 'tag-wa-coupon'],
      ['/api/openapi/personalTagMapping/delete', 'whatsapp', USER, 'tag-promos'],
    ]);
  });

  it('forwards the raw body with its signature to WHATSAPP_FORWARD_URLS, statuses included', async () => {
    const raw = fixture('status-read');
    await post(h, 'whatsapp', raw, WHATSAPP_SECRET).expect(200);
    await downstream.waitFor((r) => r.length === 1);
    const got = downstream.received[0]!;
    expect(got.path).toBe('/wa-hook');
    expect(got.raw.equals(Buffer.from(raw, 'utf8'))).toBe(true);
    expect(got.headers['x-hub-signature-256']).toBe(signMeta(raw, WHATSAPP_SECRET));
    expect(mantago.tagRequests).toEqual([]);
  });

  it('Messenger and Instagram bodies posted to /webhooks/whatsapp: 200, forwarded as they came, nothing tagged', async () => {
    const bodies = ['page', 'instagram'].map((object) =>
      JSON.stringify({ object, entry: [{ id: 'ACCOUNT-1', time: 1, messaging: [{ sender: { id: `S-${object}` }, recipient: { id: 'ACCOUNT-1' }, timestamp: recentTimestamp(), message: { mid: `m-${object}`, text: 'coupon' } }] }] }),
    );
    for (const raw of bodies) await post(h, 'whatsapp', raw, WHATSAPP_SECRET).expect(200, {});
    await downstream.waitFor((r) => r.length === 2);
    expect(downstream.received.map((r) => r.raw.toString('utf8'))).toEqual(bodies);
    expect(await h.store.recentEvents(10)).toEqual([]);
    expect((await h.store.status(Date.now())).operations.pending).toBe(0);
    expect(mantago.tagRequests).toEqual([]);
  });
});
