import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { requestListener } from '../../src/request-listener';
import { lineBody, lineText, recentTimestamp, startHarness, tempDir, type Harness } from '../helpers/app-harness';
import { signLine, signMeta } from '../helpers/signatures';

/*
 * Webhook paths are matched as written (src/app.ts): channel ids that differ only in case
 * are different channels, each with its own secret and verify token, and a case variant of
 * an id the channels file does not declare is 404 (CONTRACT: 404 for an id the file does not
 * declare) — never served as the declared id. One trailing slash is accepted. Requests go
 * through the server's request listener, as in production: exact paths directly, every
 * other spelling through express.
 */

const SECRETS = {
  LOWER_LINE: 'lower-line-channel-secret',
  UPPER_LINE: 'upper-line-channel-secret',
  LOWER_APP: 'lower-meta-app-secret',
  UPPER_APP: 'upper-meta-app-secret',
  LOWER_VERIFY: 'lower-verify-token',
  UPPER_VERIFY: 'upper-verify-token',
  ENV_LINE: 'environment-line-secret',
};

const CHANNELS = `channels:
  - { id: brand, platform: line, secret: "\${LOWER_LINE}" }
  - { id: Brand, platform: line, secret: "\${UPPER_LINE}" }
  - { id: line-a, platform: line, secret: "\${LOWER_LINE}" }
  - { id: app, platform: meta, app_secret: "\${LOWER_APP}", verify_token: "\${LOWER_VERIFY}" }
  - { id: APP, platform: meta, app_secret: "\${UPPER_APP}", verify_token: "\${UPPER_VERIFY}" }
`;

const RULES = {
  'rules.yaml': `defaults: { provider: mantago }
rules:
  - id: coupon
    when: { text: { contains: coupon } }
    then: [{ add_tag: tag-coupon }]
`,
};

const messenger = (sender: string) =>
  JSON.stringify({ object: 'page', entry: [{ id: 'PAGE', time: 1, messaging: [{ sender: { id: sender }, recipient: { id: 'PAGE' }, timestamp: recentTimestamp(), message: { mid: `m-${sender}`, text: 'coupon' } }] }] });

describe('webhook paths are matched as written', () => {
  let h: Harness;
  let dir: string;
  beforeAll(async () => {
    dir = tempDir('autotag-case-');
    fs.writeFileSync(path.join(dir, 'channels.yaml'), CHANNELS);
    h = await startHarness({ ...SECRETS, LINE_CHANNEL_SECRET: SECRETS.ENV_LINE, CHANNELS_FILE: path.join(dir, 'channels.yaml') }, RULES);
  });
  afterAll(async () => {
    await h.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const server = () => request(requestListener(h.app));
  const postLine = (url: string, body: string, secret: string) => server().post(url).set('content-type', 'application/json').set('x-line-signature', signLine(body, secret)).send(body);
  const postMeta = (url: string, body: string, secret: string) => server().post(url).set('content-type', 'application/json').set('x-hub-signature-256', signMeta(body, secret)).send(body);
  const check = (url: string, token: string) => server().get(url).query({ 'hub.mode': 'subscribe', 'hub.verify_token': token, 'hub.challenge': 'c-42' });
  const channelOf = async (userId: string) => (await h.store.recentEvents(100)).filter((e) => e.userId === userId).map((e) => e.channel);

  it('serves channels whose ids differ only in case each with its own secret', async () => {
    await postLine('/webhooks/line/brand', lineBody([lineText('coupon', 'U-lower')]), SECRETS.LOWER_LINE).expect(200, {});
    await postLine('/webhooks/line/Brand', lineBody([lineText('coupon', 'U-upper')]), SECRETS.UPPER_LINE).expect(200, {});
    // Signed with the other channel's secret: 401, not the other channel.
    await postLine('/webhooks/line/Brand', lineBody([lineText('coupon', 'U-crossed')]), SECRETS.LOWER_LINE).expect(401);
    await postMeta('/webhooks/meta/APP', messenger('P-upper'), SECRETS.UPPER_APP).expect(200, {});
    await postMeta('/webhooks/meta/app', messenger('P-lower'), SECRETS.LOWER_APP).expect(200, {});
    expect(await channelOf('U-lower')).toEqual(['brand']);
    expect(await channelOf('U-upper')).toEqual(['Brand']);
    expect(await channelOf('U-crossed')).toEqual([]);
    expect(await channelOf('P-upper')).toEqual(['APP']);
    expect(await channelOf('P-lower')).toEqual(['app']);
  });

  it("answers each Meta app's subscription check with its own verify token", async () => {
    const upper = await check('/webhooks/meta/APP', SECRETS.UPPER_VERIFY);
    expect([upper.status, upper.text]).toEqual([200, 'c-42']);
    await check('/webhooks/meta/APP', SECRETS.LOWER_VERIFY).expect(403);
    const lower = await check('/webhooks/meta/app', SECRETS.LOWER_VERIFY);
    expect([lower.status, lower.text]).toEqual([200, 'c-42']);
    await check('/webhooks/meta/app', SECRETS.UPPER_VERIFY).expect(403);
  });

  it('answers 404 to a case variant of a declared id, storing nothing', async () => {
    for (const url of ['/webhooks/line/LINE-A', '/webhooks/line/Line-A', '/webhooks/line/BRAND', '/webhooks/line/LINE-A/']) {
      const res = await postLine(url, lineBody([lineText('coupon', 'U-variant')]), SECRETS.LOWER_LINE);
      expect([url, res.status, res.body.error]).toEqual([url, 404, expect.stringMatching(/^no LINE channel "(LINE-A|Line-A|BRAND)" is declared in .*channels\.yaml; did you mean "(line-a|brand)"\? ids are matched as written, letter case included$/)]);
    }
    for (const url of ['/webhooks/meta/App', '/webhooks/meta/aPP']) {
      const res = await check(url, SECRETS.LOWER_VERIFY);
      // Two declared ids differ from it only in case: the hint names one of them.
      expect([url, res.status, res.body.error]).toEqual([url, 404, expect.stringMatching(/^no Meta app "(App|aPP)" is declared.*; did you mean "(app|APP)"\?/)]);
      await postMeta(url, messenger('P-variant'), SECRETS.LOWER_APP).expect(404);
    }
    expect(await channelOf('U-variant')).toEqual([]);
    expect(await channelOf('P-variant')).toEqual([]);
    // Logged, so a console URL typed in another case does not fail unseen.
    const warned = h.logs.parsed().filter((l) => l.message === 'webhook for a channel id that is not declared: 404');
    expect(warned).toContainEqual(expect.objectContaining({ level: 'warn', method: 'POST', path: '/webhooks/line/LINE-A', meant: 'line-a' }));
  });

  it('answers 404 to a %-escaped spelling of a declared id, naming the id as written', async () => {
    const res = await postLine('/webhooks/line/%62rand', lineBody([lineText('coupon', 'U-escaped')]), SECRETS.LOWER_LINE);
    expect([res.status, res.body.error]).toEqual([404, expect.stringMatching(/^no LINE channel "%62rand" is declared in .*; did you mean "brand"\?/)]);
    const meta = await check('/webhooks/meta/%61pp', SECRETS.LOWER_VERIFY);
    expect([meta.status, meta.body.error]).toEqual([404, expect.stringMatching(/^no Meta app "%61pp" is declared/)]);
    expect(await channelOf('U-escaped')).toEqual([]);
  });

  it('answers 404 to a case variant of any other path', async () => {
    for (const url of ['/WEBHOOKS/LINE', '/Webhooks/line', '/webhooks/LINE', '/WEBHOOKS/LINE/line-a', '/webhooks/LINE/line-a']) {
      const res = await postLine(url, lineBody([lineText('coupon', 'U-path')]), SECRETS.ENV_LINE);
      expect([url, res.status, res.body]).toEqual([url, 404, { error: `no route for POST ${url}` }]);
    }
    await check('/WEBHOOKS/META/APP', SECRETS.UPPER_VERIFY).expect(404);
    await server().get('/HEALTHZ').expect(404);
    await server().get('/healthz').expect(200);
    expect(await channelOf('U-path')).toEqual([]);
  });

  it('accepts one trailing slash on a declared path, as the same channel', async () => {
    await postLine('/webhooks/line/Brand/', lineBody([lineText('coupon', 'U-slash')]), SECRETS.UPPER_LINE).expect(200, {});
    await postLine('/webhooks/line/', lineBody([lineText('coupon', 'U-env-slash')]), SECRETS.ENV_LINE).expect(200, {});
    const slash = await check('/webhooks/meta/APP/', SECRETS.UPPER_VERIFY);
    expect([slash.status, slash.text]).toEqual([200, 'c-42']);
    await server().get('/healthz/').expect(200);
    expect(await channelOf('U-slash')).toEqual(['Brand']);
    expect(await channelOf('U-env-slash')).toEqual(['line']);
    // Two slashes are another path.
    await postLine('/webhooks/line/Brand//', lineBody([lineText('coupon', 'U-two')]), SECRETS.UPPER_LINE).expect(404);
  });
});
