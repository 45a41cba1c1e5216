import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { mantagoPairSetting } from '../../src/providers/mantago-credentials';
import { lineBody, lineText, startHarness, tempDir, type Harness } from '../helpers/app-harness';
import { startDelivery, type RunningDelivery } from '../helpers/delivery-harness';
import { jwtExpiringIn, startFakeBotbonnie, startFakeMantago, type FakeBotbonnie, type FakeMantago } from '../helpers/fake-tag-api';
import { signLine, signMeta } from '../helpers/signatures';

/*
 * Several channels and accounts in one instance, end to end with real parts: the app,
 * a real SQLite store, the real delivery loops, and fake MantaGo and BotBonnie servers
 * that check the bot id and token of every call (CONTRACT "Several channels in one
 * instance", issue 13 point 6).
 */

const SECRETS = { A_LINE_SECRET: 'brand-a-line-secret', B_LINE_SECRET: 'brand-b-line-secret', C_LINE_SECRET: 'brand-c-line-secret', META_SECRET: 'meta-app-secret', META_VERIFY: 'meta-verify' };
const DEST = { a: 'Ua000000000000000000000000000000a', b: 'Ub000000000000000000000000000000b', c: 'Uc000000000000000000000000000000c' };

const RULES = {
  'rules.yaml': `defaults: { provider: mantago }
rules:
  - id: coupon
    when: { text: { contains: coupon } }
    then: [{ add_tag: tag-coupon }]
  - id: meta-botbonnie
    when: { channel: meta-app, text: { contains: coupon } }
    then: [{ add_tag: bb-coupon, provider: botbonnie }]
`,
};

describe('several channels and accounts, delivered', () => {
  let dir: string;
  let mantagoA: FakeMantago;
  let mantagoB: FakeMantago;
  let botbonnie: FakeBotbonnie;
  let h: Harness;
  let running: RunningDelivery | undefined;
  let env: Record<string, string>;

  /** brand-c-line has no account of its own unless `cAccounts` says so. */
  function writeChannels(cAccounts = '[]'): string {
    const file = path.join(dir, `channels-${Math.random().toString(36).slice(2)}.yaml`);
    fs.writeFileSync(
      file,
      `accounts:
  brand-a:
    provider: mantago
    bot_id: ${mantagoA.botId}
    token: \${A_TOKEN}
    secret: \${A_SECRET}
    base_url: ${mantagoA.baseUrl}
  brand-b:
    provider: mantago
    bot_id: ${mantagoB.botId}
    token: \${B_TOKEN}
    secret: \${B_SECRET}
    base_url: ${mantagoB.baseUrl}
  brand-bb:
    provider: botbonnie
    token: \${BB_TOKEN}
    base_url: ${botbonnie.baseUrl}
channels:
  - id: brand-a-line
    platform: line
    secret: \${A_LINE_SECRET}
    accounts: [brand-a]
  - id: brand-b-line
    platform: line
    secret: \${B_LINE_SECRET}
    accounts: [brand-b]
  - id: brand-c-line
    platform: line
    secret: \${C_LINE_SECRET}
    accounts: ${cAccounts}
  - id: meta-app
    platform: meta
    app_secret: \${META_SECRET}
    verify_token: \${META_VERIFY}
    accounts: [brand-a, brand-bb]
`,
    );
    return file;
  }

  const postLine = (channel: string, secret: string, userId: string, destination: string) => {
    const body = lineBody([lineText('coupon', userId)], destination);
    return request(h.app).post(`/webhooks/line/${channel}`).set('content-type', 'application/json').set('x-line-signature', signLine(body, secret)).send(body).expect(200);
  };
  const messenger = (page: string, sender: string) =>
    JSON.stringify({
      object: 'page',
      entry: [{ id: page, time: 1, messaging: [{ sender: { id: sender }, recipient: { id: page }, timestamp: Date.now(), message: { mid: `m-${sender}-${page}`, text: 'coupon' } }] }],
    });
  const postMeta = (body: string) =>
    request(h.app).post('/webhooks/meta/meta-app').set('content-type', 'application/json').set('x-hub-signature-256', signMeta(body, SECRETS.META_SECRET)).send(body).expect(200);

  beforeEach(async () => {
    dir = tempDir('autotag-channels-');
    mantagoA = await startFakeMantago({ botId: 'bot-a' });
    mantagoB = await startFakeMantago({ botId: 'bot-b' });
    botbonnie = await startFakeBotbonnie({ token: 'brand-bb-botbonnie-token' });
    env = {
      ...SECRETS,
      A_TOKEN: mantagoA.token,
      A_SECRET: mantagoA.secret,
      B_TOKEN: mantagoB.token,
      B_SECRET: mantagoB.secret,
      BB_TOKEN: botbonnie.token,
      CHANNELS_FILE: writeChannels(),
      RETRY_MIN_MS: '20',
      RETRY_MAX_MS: '200',
    };
    h = await startHarness(env, RULES);
  });
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await h.cleanup();
    await Promise.all([mantagoA.close(), mantagoB.close(), botbonnie.close()]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('tags two LINE channels\' users in two MantaGo accounts, each call with its own botId, token and secret', async () => {
    running = await startDelivery(h, env);
    await postLine('brand-a-line', SECRETS.A_LINE_SECRET, 'U-a', DEST.a);
    await postLine('brand-b-line', SECRETS.B_LINE_SECRET, 'U-b', DEST.b);
    await running.waitForOutcomes(2, (o) => o.outcome === 'applied');

    expect(mantagoA.personalTagsOf('line', 'U-a')).toEqual(['tag-coupon']);
    expect(mantagoB.personalTagsOf('line', 'U-b')).toEqual(['tag-coupon']);
    // Neither account saw the other's user; every call carried its own account's credentials.
    expect(mantagoA.tagRequests.map((r) => (r.body as { platformClientId: string }).platformClientId)).toEqual(['U-a']);
    expect(mantagoB.tagRequests.map((r) => (r.body as { platformClientId: string }).platformClientId)).toEqual(['U-b']);
    for (const [fake, botId] of [[mantagoA, 'bot-a'], [mantagoB, 'bot-b']] as const) {
      const [call] = fake.tagRequests;
      expect(call!.query.botId).toBe(botId);
      expect(call!.headers.authorization).toBe(`Bearer ${fake.token}`);
      expect((call!.body as { secret: string }).secret).toBe(fake.secret);
    }
    const metrics = (await request(h.app).get('/metrics')).text;
    expect(metrics).toContain('autotag_tag_operations_total{provider="mantago",account="brand-a",outcome="applied"} 1');
    expect(metrics).toContain('autotag_tag_operations_total{provider="mantago",account="brand-b",outcome="applied"} 1');
    const history = await h.store.userHistory('U-a');
    expect(history.calls.map((c) => [c.operation.account, c.operation.channel, c.outcome])).toEqual([['brand-a', 'brand-a-line', 'applied']]);
  });

  it('tags the users of one Meta app\'s two pages in its MantaGo account and its BotBonnie account, each page as bot_pid', async () => {
    running = await startDelivery(h, env);
    await postMeta(messenger('PAGE-1', 'PSID-1'));
    await postMeta(messenger('PAGE-2', 'PSID-2'));
    await running.waitForOutcomes(4, (o) => o.outcome === 'applied');

    expect(mantagoA.personalTagsOf('facebook', 'PSID-1')).toEqual(['tag-coupon']);
    expect(mantagoA.personalTagsOf('facebook', 'PSID-2')).toEqual(['tag-coupon']);
    expect(mantagoA.tagRequests.every((r) => r.query.botId === 'bot-a' && r.headers.authorization === `Bearer ${mantagoA.token}`)).toBe(true);
    expect(mantagoB.requests).toEqual([]);
    expect(botbonnie.userTagsOf('PAGE-1', 0, 'PSID-1')).toEqual(['bb-coupon']);
    expect(botbonnie.userTagsOf('PAGE-2', 0, 'PSID-2')).toEqual(['bb-coupon']);
    expect(botbonnie.requests.every((r) => r.headers.authorization === 'Bearer brand-bb-botbonnie-token')).toBe(true);
  });

  it("one account's 429 pause never slows another's tags", async () => {
    running = await startDelivery(h, { ...env, RETRY_MAX_MS: '3000' });
    // Account A asks for a pause of an hour (RETRY_MAX_MS caps it at 3 s here: long enough to see it, short enough to wait for).
    mantagoA.api.enqueue({ status: 429, headers: { 'retry-after': '3600' }, body: { success: false } });
    await postLine('brand-a-line', SECRETS.A_LINE_SECRET, 'U-a1', DEST.a);
    await running.waitForOutcomes(1, (o) => o.outcome === 'retry' && o.op.account === 'brand-a');
    // While A is paused, B's work goes out at once, and A is not called again before its pause ends.
    await postLine('brand-a-line', SECRETS.A_LINE_SECRET, 'U-a2', DEST.a);
    await postLine('brand-b-line', SECRETS.B_LINE_SECRET, 'U-b1', DEST.b);
    await running.waitForOutcomes(1, (o) => o.outcome === 'applied' && o.op.account === 'brand-b');
    expect(mantagoA.tagRequests).toHaveLength(1);
    expect(running.delivery.operations.get('brand-b')!.gate.waitMs()).toBe(0);
    expect(running.delivery.operations.get('brand-a')!.gate.waitMs()).toBeGreaterThan(0);
    // And A catches up once its pause is over.
    await running.waitForOutcomes(2, (o) => o.outcome === 'applied' && o.op.account === 'brand-a');
    expect(mantagoA.personalTagsOf('line', 'U-a1')).toEqual(['tag-coupon']);
    expect(mantagoA.personalTagsOf('line', 'U-a2')).toEqual(['tag-coupon']);
  });

  it("one account's API being down does not delay the other's tags", async () => {
    running = await startDelivery(h, env);
    await mantagoA.close();
    await postLine('brand-a-line', SECRETS.A_LINE_SECRET, 'U-down', DEST.a);
    await postLine('brand-b-line', SECRETS.B_LINE_SECRET, 'U-up', DEST.b);
    await running.waitForOutcomes(1, (o) => o.outcome === 'applied' && o.op.account === 'brand-b');
    await running.waitForOutcomes(1, (o) => o.outcome === 'retry' && o.op.account === 'brand-a');
    expect(mantagoB.personalTagsOf('line', 'U-up')).toEqual(['tag-coupon']);
    const status = await h.store.status(Date.now());
    // Still outstanding: waiting for its retry, or already claimed again for it (RETRY_MIN_MS is short here).
    const a = status.accounts.find((x) => x.account === 'brand-a')?.operations;
    expect([(a?.pending ?? 0) + (a?.leased ?? 0), a?.dead]).toEqual([1, 0]);
    expect(mantagoA.personalTagsOf('line', 'U-down')).toEqual([]);
    // A stand-in, so that afterEach has an open server to close.
    mantagoA = await startFakeMantago({ botId: 'bot-a' });
  });

  it("a token refresh for one account stores that account's new pair and leaves the other's untouched", async () => {
    const expired = jwtExpiringIn(-60_000);
    mantagoA.setPair(expired, 'a-old-secret');
    const envA = { ...env, A_TOKEN: expired, A_SECRET: 'a-old-secret' };
    running = await startDelivery(h, envA);
    const before = await h.store.getSetting(mantagoPairSetting('brand-b'));
    await postLine('brand-a-line', SECRETS.A_LINE_SECRET, 'U-a', DEST.a);
    await postLine('brand-b-line', SECRETS.B_LINE_SECRET, 'U-b', DEST.b);
    await running.waitForOutcomes(2, (o) => o.outcome === 'applied');

    expect(mantagoA.tokenRequests).toHaveLength(1);
    expect(mantagoB.tokenRequests).toHaveLength(0);
    const fresh = mantagoA.issued[0]!;
    expect(JSON.parse((await h.store.getSetting(mantagoPairSetting('brand-a')))!)).toMatchObject({ token: fresh.token, secret: fresh.secret, source: 'refresh' });
    const after = await h.store.getSetting(mantagoPairSetting('brand-b'));
    expect(after).toBe(before);
    expect(JSON.parse(after!)).toMatchObject({ token: mantagoB.token, secret: mantagoB.secret, source: 'environment' });
    expect(mantagoB.tagRequests[0]!.headers.authorization).toBe(`Bearer ${mantagoB.token}`);
  });

  it('keeps an operation no account can take as a dead letter that says so, and queues it in the account that exists at the next start', async () => {
    running = await startDelivery(h, env);
    await postLine('brand-c-line', SECRETS.C_LINE_SECRET, 'U-c', DEST.c);
    const [dead] = await running.waitForOutcomes(1, (o) => o.outcome === 'dead');
    expect(dead!.reason).toBe(
      'no MantaGo account for it: the rule names none, channel brand-c-line has none for mantago, and MANTAGO_TOKEN (the environment\'s MantaGo account) is not set',
    );
    const [letter] = await h.store.listDeadLetters();
    expect(letter).toMatchObject({ code: 'account_missing', operation: { account: '', channel: 'brand-c-line', userId: 'U-c' } });
    const listed = await request(h.app).get('/metrics');
    expect(listed.text).toContain('autotag_dead_letters{queue="operations"} 1');
    await running.stop();

    // The channels file now gives brand-c-line an account: the next start queues the dead letter there.
    running = await startDelivery(h, { ...env, CHANNELS_FILE: writeChannels('[brand-b]') });
    await running.waitForOutcomes(1, (o) => o.outcome === 'applied');
    expect(mantagoB.personalTagsOf('line', 'U-c')).toEqual(['tag-coupon']);
    expect(await h.store.listDeadLetters()).toEqual([]);
  });
});
