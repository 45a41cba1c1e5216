import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { createAdminRouter } from '../../src/admin';
import { createApp } from '../../src/app';
import { renderStatus } from '../../src/cli/status';
import { Downstream } from '../helpers/downstream';
import { lineBody, lineText, recentTimestamp, startHarness, tempDir, type Harness } from '../helpers/app-harness';
import { signLine, signMeta } from '../helpers/signatures';

/*
 * Several channels in one instance, on the request path (CONTRACT "Several channels in
 * one instance"): each channel's endpoint and secret, POST /webhooks/line routed by the
 * body's destination, 404 for an undeclared id, dedup and forwards per channel, and the
 * channel in logs, metrics and the history.
 */

const SECRETS = {
  A_LINE_SECRET: 'brand-a-line-channel-secret',
  B_LINE_SECRET: 'brand-b-line-channel-secret',
  ENV_LINE_SECRET: 'environment-line-channel-secret',
  META_ONE_SECRET: 'meta-app-one-secret',
  META_TWO_SECRET: 'meta-app-two-secret',
  META_ONE_VERIFY: 'meta-one-verify-token',
  A_TOKEN: 'brand-a-mantago-token',
  A_SECRET: 'brand-a-mantago-secret',
  B_TOKEN: 'brand-b-mantago-token',
  B_SECRET: 'brand-b-mantago-secret',
};
const DEST_A = 'Ua0000000000000000000000000000000';
const DEST_B = 'Ub0000000000000000000000000000000';

function channelsFile(forward: string): string {
  return `accounts:
  brand-a:
    provider: mantago
    bot_id: bot-a
    token: \${A_TOKEN}
    secret: \${A_SECRET}
  brand-b:
    provider: mantago
    bot_id: bot-b
    token: \${B_TOKEN}
    secret: \${B_SECRET}
channels:
  - id: brand-a-line
    platform: line
    secret: \${A_LINE_SECRET}
    destination: ${DEST_A}
    accounts: [brand-a]
    forward_urls: [${forward}/a]
  - id: brand-b-line
    platform: line
    secret: \${B_LINE_SECRET}
    destination: ${DEST_B}
    accounts: [brand-b]
  - id: meta-one
    platform: meta
    app_secret: \${META_ONE_SECRET}
    verify_token: \${META_ONE_VERIFY}
    accounts: [brand-a]
  - id: meta-two
    platform: meta
    app_secret: \${META_TWO_SECRET}
    verify_token: \${META_ONE_VERIFY}
    accounts: [brand-b]
`;
}

const RULES = {
  'rules.yaml': `defaults: { provider: mantago }
rules:
  - id: coupon
    when: { text: { contains: coupon } }
    then: [{ add_tag: tag-coupon }]
`,
};

function post(h: Harness, url: string, body: string, header: string, signature: string | null) {
  const r = request(h.app).post(url).set('content-type', 'application/json');
  if (signature !== null) r.set(header, signature);
  return r.send(body);
}
const postLine = (h: Harness, url: string, body: string, secret: string | null) =>
  post(h, url, body, 'x-line-signature', secret === null ? null : signLine(body, secret));
const postMeta = (h: Harness, url: string, body: string, secret: string) => post(h, url, body, 'x-hub-signature-256', signMeta(body, secret));

const messenger = (page: string, mid: string, sender = 'PSID-1') =>
  JSON.stringify({ object: 'page', entry: [{ id: page, time: 1, messaging: [{ sender: { id: sender }, recipient: { id: page }, timestamp: recentTimestamp(), message: { mid, text: 'coupon' } }] }] });

describe('several channels in one instance: the request path', () => {
  let h: Harness;
  let dir: string;
  let downstream: Downstream;

  async function start(extra: Record<string, string> = {}): Promise<Harness> {
    fs.writeFileSync(path.join(dir, 'channels.yaml'), channelsFile(downstream.url));
    return startHarness({ ...SECRETS, CHANNELS_FILE: path.join(dir, 'channels.yaml'), ...extra }, RULES);
  }
  const nothingStored = async () => {
    const status = await h.store.status(Date.now());
    expect([status.operations.pending, status.forwards.pending]).toEqual([0, 0]);
    expect(await h.store.recentEvents(10)).toEqual([]);
  };

  beforeEach(async () => {
    dir = tempDir('autotag-channels-');
    downstream = await Downstream.start();
  });
  afterEach(async () => {
    await h?.cleanup();
    await downstream.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("each LINE channel takes its own secret, and its events go to its own account", async () => {
    h = await start();
    await postLine(h, '/webhooks/line/brand-a-line', lineBody([lineText('coupon', 'U-a')], DEST_A), SECRETS.A_LINE_SECRET).expect(200, {});
    await postLine(h, '/webhooks/line/brand-b-line', lineBody([lineText('coupon', 'U-b')], DEST_B), SECRETS.B_LINE_SECRET).expect(200, {});
    const a = await h.store.claimOperations({ scope: { account: 'brand-a' }, limit: 10, owner: 't', now: Date.now(), leaseMs: 30_000 });
    const b = await h.store.claimOperations({ scope: { account: 'brand-b' }, limit: 10, owner: 't', now: Date.now(), leaseMs: 30_000 });
    expect(a.map((o) => [o.userId, o.channel, o.account])).toEqual([['U-a', 'brand-a-line', 'brand-a']]);
    expect(b.map((o) => [o.userId, o.channel, o.account])).toEqual([['U-b', 'brand-b-line', 'brand-b']]);
    expect((await h.store.recentEvents(10)).map((e) => [e.userId, e.channel])).toEqual([
      ['U-b', 'brand-b-line'],
      ['U-a', 'brand-a-line'],
    ]);
    const accepted = h.logs.parsed().filter((l) => l.message === 'webhook accepted');
    expect(accepted.map((l) => [l.channel, l.operations])).toEqual([
      ['brand-a-line', ['add mantago/personal tag tag-coupon in brand-a']],
      ['brand-b-line', ['add mantago/personal tag tag-coupon in brand-b']],
    ]);
  });

  it("a webhook signed with channel A's secret sent to channel B's endpoint gets 401 and stores nothing", async () => {
    h = await start();
    const body = lineBody([lineText('coupon', 'U-a')], DEST_A);
    const res = await postLine(h, '/webhooks/line/brand-b-line', body, SECRETS.A_LINE_SECRET);
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('x-line-signature does not match the body');
    await postMeta(h, '/webhooks/meta/meta-two', messenger('PAGE-1', 'm-wrong'), SECRETS.META_ONE_SECRET).expect(401);
    await nothingStored();
  });

  it('POST /webhooks/line routes by destination to the channel that declares it, verified with that channel\'s secret', async () => {
    h = await start({ LINE_CHANNEL_SECRET: SECRETS.ENV_LINE_SECRET });
    const bodyA = lineBody([lineText('coupon', 'U-a')], DEST_A);
    await postLine(h, '/webhooks/line', bodyA, SECRETS.A_LINE_SECRET).expect(200, {});
    // Another destination: the environment's channel, with the environment's secret.
    await postLine(h, '/webhooks/line', lineBody([lineText('coupon', 'U-env')], 'Uother'), SECRETS.ENV_LINE_SECRET).expect(200, {});
    // A's destination signed with another secret (the environment's, B's): 401, nothing stored.
    const forged = lineBody([lineText('coupon', 'U-forged')], DEST_A);
    await postLine(h, '/webhooks/line', forged, SECRETS.ENV_LINE_SECRET).expect(401);
    await postLine(h, '/webhooks/line', forged, SECRETS.B_LINE_SECRET).expect(401);
    expect((await h.store.recentEvents(10)).map((e) => [e.userId, e.channel])).toEqual([
      ['U-env', 'line'],
      ['U-a', 'brand-a-line'],
    ]);
    // Forwards go to the verifying channel's forward URLs, with its signature: A's webhook to A's URL, the environment's nowhere.
    const claimed = await h.store.claimForwards({ limit: 10, owner: 't', now: Date.now(), leaseMs: 30_000 });
    expect(claimed.map((f) => [f.destination, f.headers['x-line-signature'], f.body.toString()])).toEqual([
      [`${downstream.url}/a`, signLine(bodyA, SECRETS.A_LINE_SECRET), bodyA],
    ]);
  });

  it('POST /webhooks/line without the environment\'s secret: 401 for a destination no secret covers, 401 before reading an unsigned body', async () => {
    h = await start();
    const res = await postLine(h, '/webhooks/line', lineBody([lineText('coupon', 'U-x')], 'Unknown'), SECRETS.A_LINE_SECRET);
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('no channel\'s secret covers destination "Unknown"');
    const unsigned = await postLine(h, '/webhooks/line', lineBody([lineText('coupon', 'U-x')], DEST_A), null);
    expect(unsigned.status).toBe(401);
    expect(unsigned.body.error).toBe('missing x-line-signature header');
    expect(unsigned.headers.connection).toBe('close');
    const malformed = await post(h, '/webhooks/line', lineBody([lineText('coupon')], DEST_A), 'x-line-signature', 'not base64 at all');
    expect([malformed.status, malformed.body.error]).toEqual([401, 'x-line-signature is malformed']);
    // Not JSON at all: no destination, and no secret of the environment to try: 401, not 400.
    await postLine(h, '/webhooks/line', 'not json', SECRETS.A_LINE_SECRET).expect(401);
    await nothingStored();
  });

  it('keeps the check order: 404 for an undeclared id first, then 503, 413, 401 before the body is read', async () => {
    h = await start({ MAX_BODY_BYTES: '2000' });
    for (const [method, url] of [['post', '/webhooks/line/nope'], ['post', '/webhooks/meta/nope'], ['get', '/webhooks/meta/nope'], ['post', '/webhooks/meta/brand-a-line']] as const) {
      const res = await request(h.app)[method](url).send('x'.repeat(5000));
      expect([url, res.status]).toEqual([url, 404]);
      // The file by name, not where it is on the server (the answer goes to anyone who asks).
      expect(res.body.error).toMatch(/^no (LINE channel|Meta app) "(nope|brand-a-line)" is declared in [^/]*channels\.yaml$/);
      // Answered before the body is read: the connection is closed, not left to drain the body.
      if (method === 'post') expect([url, res.headers.connection]).toEqual([url, 'close']);
    }
    // A declared channel: 413 on the declared length before the signature, then 401 on a missing signature.
    const big = await request(h.app).post('/webhooks/line/brand-a-line').set('x-line-signature', signLine('x', 'y')).send('x'.repeat(5000));
    expect(big.status).toBe(413);
    const unsigned = await request(h.app).post('/webhooks/line/brand-a-line').send('{}');
    expect(unsigned.status).toBe(401);
  });

  it('answers 503 on POST /webhooks/line when no LINE secret exists anywhere, 401 when one exists but covers no destination', async () => {
    fs.writeFileSync(path.join(dir, 'channels.yaml'), `channels:\n  - { id: m, platform: meta, app_secret: "\${META_ONE_SECRET}", verify_token: "\${META_ONE_VERIFY}" }\n`);
    h = await startHarness({ ...SECRETS, CHANNELS_FILE: path.join(dir, 'channels.yaml') }, RULES);
    const res = await request(h.app).post('/webhooks/line').send('x'.repeat(100));
    expect(res.status).toBe(503);
    expect(res.body.error).toMatch(/LINE_CHANNEL_SECRET is not set/);
    await h.cleanup();

    // A LINE channel without a destination: a LINE secret exists, so no 503; but it covers nothing here.
    fs.writeFileSync(path.join(dir, 'channels.yaml'), `channels:\n  - { id: l, platform: line, secret: "\${A_LINE_SECRET}" }\n`);
    h = await startHarness({ ...SECRETS, CHANNELS_FILE: path.join(dir, 'channels.yaml') }, RULES);
    const body = lineBody([lineText('coupon')], DEST_A);
    const covered = await postLine(h, '/webhooks/line', body, SECRETS.A_LINE_SECRET);
    expect([covered.status, covered.body.error]).toEqual([401, `no channel's secret covers destination "${DEST_A}"`]);
    await postLine(h, '/webhooks/line/l', body, SECRETS.A_LINE_SECRET).expect(200);
  });

  it("answers a Meta app's subscription check with its own verify token", async () => {
    h = await start();
    const ok = await request(h.app).get('/webhooks/meta/meta-one').query({ 'hub.mode': 'subscribe', 'hub.verify_token': SECRETS.META_ONE_VERIFY, 'hub.challenge': '42' });
    expect([ok.status, ok.text]).toEqual([200, '42']);
    await request(h.app).get('/webhooks/meta/meta-one').query({ 'hub.mode': 'subscribe', 'hub.verify_token': 'wrong', 'hub.challenge': '42' }).expect(403);
  });

  it('dedups per channel: one page subscribed by two Meta apps is tagged in both apps\' accounts, once each', async () => {
    h = await start();
    const body = messenger('PAGE-1', 'm-shared');
    await postMeta(h, '/webhooks/meta/meta-one', body, SECRETS.META_ONE_SECRET).expect(200);
    await postMeta(h, '/webhooks/meta/meta-two', body, SECRETS.META_TWO_SECRET).expect(200);
    // Redeliveries to each app: duplicates.
    await postMeta(h, '/webhooks/meta/meta-one', body, SECRETS.META_ONE_SECRET).expect(200);
    await postMeta(h, '/webhooks/meta/meta-two', body, SECRETS.META_TWO_SECRET).expect(200);
    const status = await h.store.status(Date.now());
    expect(status.accounts.map((a) => [a.account, a.operations.pending])).toEqual([
      ['brand-a', 1],
      ['brand-b', 1],
    ]);
    expect(status.channels.map((c) => [c.channel, c.operations.pending])).toEqual([
      ['meta-one', 1],
      ['meta-two', 1],
    ]);
    expect((await h.store.userHistory('PSID-1')).events.map((e) => e.channel)).toEqual(['meta-one', 'meta-two']);
  });

  it('counts webhooks and events by channel in /metrics', async () => {
    h = await start();
    await postLine(h, '/webhooks/line/brand-a-line', lineBody([lineText('coupon', 'U-a')], DEST_A), SECRETS.A_LINE_SECRET).expect(200);
    await postLine(h, '/webhooks/line/brand-a-line', lineBody([lineText('coupon', 'U-a')], DEST_A), SECRETS.B_LINE_SECRET).expect(401);
    await postMeta(h, '/webhooks/meta/meta-one', messenger('PAGE-1', 'm-metrics'), SECRETS.META_ONE_SECRET).expect(200);
    const text = (await request(h.app).get('/metrics')).text;
    expect(text).toContain('autotag_webhooks_total{platform="line",channel="brand-a-line",outcome="accepted"} 1');
    expect(text).toContain('autotag_webhooks_total{platform="line",channel="brand-a-line",outcome="unauthorized"} 1');
    expect(text).toContain('autotag_webhooks_total{platform="meta",channel="meta-one",outcome="accepted"} 1');
    expect(text).toContain('autotag_webhook_events_total{platform="facebook",channel="meta-one",kind="message"} 1');
    for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
  });

  it('shows the channel of every event and a line per channel and per account, in /admin and in autotag status', async () => {
    const token = 'admin-token-for-channel-tests-1';
    h = await start({ ADMIN_TOKEN: token });
    await postLine(h, '/webhooks/line/brand-a-line', lineBody([lineText('coupon', 'U-a')], DEST_A), SECRETS.A_LINE_SECRET).expect(200);
    await postMeta(h, '/webhooks/meta/meta-two', messenger('PAGE-9', 'm-admin', 'PSID-9'), SECRETS.META_TWO_SECRET).expect(200);
    const router = createAdminRouter({ config: h.config, store: h.store, rules: () => h.ruleSet, log: h.log });
    const app = createApp({ config: h.config, log: h.log, metrics: h.metrics, store: h.store, rules: { current: () => h.ruleSet }, admin: router });
    const page = await request(app).get('/admin').set('authorization', `Bearer ${token}`).expect(200);
    expect(page.text).toContain('<h3>Tag operations by channel</h3>');
    expect(page.text).toMatch(/<td data-label="channel"><code>brand-a-line<\/code><\/td><td class="num" data-label="pending">1<\/td>/);
    expect(page.text).toMatch(/<td data-label="channel"><code>meta-two<\/code><\/td><td class="num" data-label="pending">1<\/td>/);
    expect(page.text).toMatch(/<td data-label="account"><code>brand-b<\/code> \(mantago\)<\/td><td class="num" data-label="pending">1<\/td>/);
    // Recent events: the channel of each.
    expect(page.text).toMatch(/<td data-label="channel"><code>meta-two<\/code><\/td><td data-label="platform">facebook<\/td><td data-label="user"><a [^>]*>PSID-9<\/a><\/td>/);
    // The playground knows the channels and their accounts.
    const played = await request(app).get('/admin').query({ text: 'coupon', channel: 'meta-one' }).set('authorization', `Bearer ${token}`).expect(200);
    expect(played.text).toContain('message on facebook (channel <code>meta-one</code>)');
    expect(played.text).toMatch(/<code>brand-a<\/code> <span class="muted">\(the channel&#39;s\)<\/span>/);
    const json = await request(app).get('/admin/playground.json').query({ text: 'coupon', channel: 'nope' }).set('authorization', `Bearer ${token}`);
    expect([json.status, json.body.error]).toEqual([400, expect.stringMatching(/^playground.json: channel: unknown channel "nope"/)]);

    const status = renderStatus(await h.store.status(Date.now()));
    expect(status).toMatch(/^channel\s+pending\s+due\s+leased\s+dead\s+oldest pending$/m);
    expect(status).toMatch(/^brand-a-line\s+1\s+1\s+0\s+0\s/m);
    expect(status).toMatch(/^brand-b \(mantago\)\s+1\s+1\s+0\s+0\s/m);
  });
});
