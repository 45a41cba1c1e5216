import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createAdminRouter } from '../../src/admin';
import { createApp } from '../../src/app';
import { RulesHolder, watchRules } from '../../src/rules/watch-rules';
import { lineBody, lineText, recentTimestamp, startHarness, type Harness } from '../helpers/app-harness';
import { CHROMIUM_PATH, chromiumInstalled, launchChromium, listenOnLoopback } from '../helpers/browser';
import { startDelivery, type RunningDelivery } from '../helpers/delivery-harness';
import { mantagoError, startFakeMantago, type FakeMantago } from '../helpers/fake-tag-api';
import { signLine, signMeta } from '../helpers/signatures';

/**
 * The charts, the refused-edit banner and the layout of /admin, in headless Chromium,
 * with data from real webhooks through the real app and the real worker against a fake
 * MantaGo on loopback. Screenshots go to TEST_OUTPUT_DIR (default test-output/).
 */

const TOKEN = 'dashboard-admin-token-5eed1e55';
const LINE_SECRET = 'line-secret-dashboard-test';
const META_SECRET = 'meta-secret-dashboard-test';
const OUTPUT = process.env.TEST_OUTPUT_DIR ?? path.join(__dirname, '..', '..', 'test-output');

const RULES = `
defaults:
  provider: mantago
rules:
  - id: campaign-coupon
    when:
      event: message
      text: { contains: [優惠券, coupon] }
    then:
      - add_tag: tag-coupon
  - id: vip-interest
    when:
      event: message
      text: { contains: [vip] }
    then:
      - add_tag: tag-vip
`;

const installed = chromiumInstalled();
if (!installed) console.warn(`SKIPPED: the /admin dashboard browser test needs Chromium at ${CHROMIUM_PATH}; it did not run.`);
const describeInChromium = installed ? describe : describe.skip;

describeInChromium('/admin charts, banner and layout in headless Chromium', () => {
  jest.setTimeout(60_000);

  let h: Harness;
  let mantago: FakeMantago;
  let running: RunningDelivery;
  let holder: RulesHolder;
  let watcher: { close(): void };
  const reloads: { applied: boolean; problems?: string[] }[] = [];
  let server: { port: number; close(): Promise<void> };
  let browser: Browser;
  let context: BrowserContext;
  let origin: string;

  async function postLine(text: string, userId: string): Promise<void> {
    const body = lineBody([lineText(text, userId)], 'Udashboarddestination000000000001');
    await request(origin).post('/webhooks/line').set('content-type', 'application/json').set('x-line-signature', signLine(body, LINE_SECRET)).send(body).expect(200);
  }

  async function postFacebook(text: string, psid: string): Promise<void> {
    const body = JSON.stringify({
      object: 'page',
      entry: [{ id: 'PAGE-1', time: 1, messaging: [{ sender: { id: psid }, recipient: { id: 'PAGE-1' }, timestamp: recentTimestamp(), message: { mid: `m-${psid}`, text } }] }],
    });
    await request(origin).post('/webhooks/facebook').set('content-type', 'application/json').set('x-hub-signature-256', signMeta(body, META_SECRET)).send(body).expect(200);
  }

  /** A page at `width`, with the admin token on every request; `js: false` like a browser with scripts off. */
  async function open(width: number, js = true): Promise<Page> {
    context = await browser.newContext({ viewport: { width, height: 900 }, javaScriptEnabled: js, extraHTTPHeaders: { authorization: `Bearer ${TOKEN}` } });
    const page = await context.newPage();
    const res = await page.goto(`${origin}/admin`);
    expect(res?.status()).toBe(200);
    return page;
  }

  const total = async (page: Page, id: string) => Number(await page.locator(`#${id}`).getAttribute('data-total'));
  /** What the bars of a chart add up to (each bar carries its count). */
  const barSum = async (page: Page, id: string) =>
    (await page.locator(`#${id} g.bar`).evaluateAll((gs) => gs.map((g) => Number(g.getAttribute('data-count'))))).reduce((a, b) => a + b, 0);

  beforeAll(async () => {
    fs.mkdirSync(OUTPUT, { recursive: true });
    mantago = await startFakeMantago();
    const mantagoEnv = { MANTAGO_BASE_URL: mantago.baseUrl, MANTAGO_BOT_ID: mantago.botId, MANTAGO_TOKEN: mantago.token, MANTAGO_SECRET: mantago.secret };
    h = await startHarness({ ADMIN_TOKEN: TOKEN, LINE_CHANNEL_SECRET: LINE_SECRET, FACEBOOK_APP_SECRET: META_SECRET, ...mantagoEnv }, { 'rules.yaml': RULES });
    running = await startDelivery(h, mantagoEnv);
    holder = new RulesHolder(h.ruleSet);
    watcher = watchRules({ dir: h.config.rulesDir, holder, log: h.log, pollMs: 100, debounceMs: 20, onReload: (r) => reloads.push(r) });
    const admin = createAdminRouter({
      config: h.config,
      store: h.store,
      rules: () => holder.current(),
      refusedEdit: () => holder.refusedEdit(),
      log: h.log,
      onRetry: () => running.delivery.wake('operations'),
    });
    const app = createApp({ config: h.config, log: h.log, metrics: h.metrics, store: h.store, rules: holder, admin });
    server = await listenOnLoopback(app);
    origin = `http://127.0.0.1:${server.port}`;
    browser = await launchChromium();

    // 8 webhooks: 6 from LINE (4 coupon, 1 vip, 1 that matches nothing), 2 from Facebook (coupon).
    // MantaGo answers the first call 429 (Retry-After: 1) and the second 400: one retry, one dead letter, 6 applied.
    mantago.api.enqueue(
      { status: 429, headers: { 'retry-after': '1' }, body: mantagoError(429, 'slow down') },
      { status: 400, body: mantagoError(400, 'tag not found') },
    );
    for (let i = 1; i <= 4; i++) await postLine(`我要優惠券 ${i}`, `Udashuser00000000000000000000000${i}`);
    await postLine('vip please', 'Udashuser000000000000000000000005');
    await postLine('hello', 'Udashuser000000000000000000000006');
    await postFacebook('any coupon?', 'PSID-DASH-1');
    await postFacebook('coupon!', 'PSID-DASH-2');
    await running.waitForOutcomes(6, (o) => o.outcome === 'applied', 20_000);
    await running.waitForOutcomes(1, (o) => o.outcome === 'dead');
  });

  afterAll(async () => {
    watcher?.close();
    await browser?.close();
    await server?.close();
    await running?.stop();
    await h?.cleanup();
    await mantago?.close();
  });

  afterEach(async () => {
    await context?.close();
  });

  it('charts the webhooks sent, the tag calls by outcome, the 429s and the top rules (1280 px screenshot)', async () => {
    const page = await open(1280);
    for (const w of ['24h', '1h']) {
      expect(await total(page, `chart-${w}-webhooks`)).toBe(8);
      expect(await barSum(page, `chart-${w}-webhooks`)).toBe(8);
      expect(await page.locator(`#chart-${w}-webhooks .legend`).innerText()).toMatch(/line\s*6[\s\S]*facebook\s*2/);
      expect(await total(page, `chart-${w}-calls`)).toBe(8);
      expect(await barSum(page, `chart-${w}-calls`)).toBe(8);
      expect(await page.locator(`#chart-${w}-calls .legend`).innerText()).toMatch(/applied\s*6[\s\S]*retried\s*1[\s\S]*dead\s*1/);
      expect(await total(page, `chart-${w}-throttled`)).toBe(1);
      expect(await page.locator(`#chart-${w}-throttled .legend`).innerText()).toMatch(/mantago\s*1/);
      expect(await total(page, `chart-${w}-rules`)).toBe(7);
      const rules = await page.locator(`#chart-${w}-rules g.rule`).evaluateAll((gs) => gs.map((g) => [g.getAttribute('data-rule'), Number(g.getAttribute('data-count'))]));
      expect(rules).toEqual([['campaign-coupon', 6], ['vip-interest', 1]]);
    }
    // The first panel is the setup checklist; open here, as BotBonnie has no token.
    const setup = page.locator('#setup');
    expect((await setup.boundingBox())!.y).toBeLessThan((await page.locator('#activity').boundingBox())!.y);
    const checklist = await setup.innerText();
    expect(checklist).toMatch(/Setup: 3 of 3 webhook endpoints enabled, 1 of 2 accounts configured, SQLite, 2 rules — needs a look/);
    expect(checklist).toMatch(/✓\s*done:\s*\/webhooks\/line: enabled, signatures checked with LINE_CHANNEL_SECRET/);
    expect(checklist).toMatch(/✓\s*done:\s*account mantago \(MantaGo, from the environment\): configured/);
    expect(checklist).toMatch(/✗\s*to do:\s*account botbonnie \(BotBonnie, from the environment\): not configured, BOTBONNIE_TOKEN is not set/);
    expect(checklist).toMatch(/✓\s*done:\s*store: SQLite, file .*autotag\.db \(DATA_DIR\) answers\./);
    // The charts come before the tables, and are drawn: the 24-hour webhook chart has a visible bar.
    const chartsTop = (await page.locator('#activity').boundingBox())!.y;
    expect(chartsTop).toBeLessThan((await page.locator('#queue').boundingBox())!.y);
    const bar = await page.locator('#chart-24h-webhooks g.bar rect').first().boundingBox();
    expect(bar!.height).toBeGreaterThan(10);
    await page.screenshot({ path: path.join(OUTPUT, 'admin-dashboard-1280.png'), fullPage: true });
  });

  it.each([390, 1126])('at %i px nothing scrolls sideways and every table column is in view', async (width) => {
    const page = await open(width);
    // With a user looked up and the playground run, so their tables are on the page too.
    await page.goto(`${origin}/admin?user=Udashuser000000000000000000000001&text=${encodeURIComponent('我要優惠券')}&platform=line`);
    expect(await page.locator('#user-result table').count()).toBeGreaterThan(0);
    expect(await page.locator('#playground-result table').count()).toBeGreaterThan(0);
    const sizes = (await page.evaluate(`({
      page: document.documentElement.scrollWidth,
      boxes: [...document.querySelectorAll('.scroll')].map((el) => el.scrollWidth - el.clientWidth),
      cells: [...document.querySelectorAll('td, figure.chart')].map((el) => el.getBoundingClientRect()).map((r) => [r.left, r.right]),
      tables: document.querySelectorAll('table').length,
    })`)) as { page: number; boxes: number[]; cells: [number, number][]; tables: number };
    expect(sizes.tables).toBeGreaterThanOrEqual(6); // queue, dead letters, recent events, the user's timeline, the playground's two
    expect(sizes.page).toBeLessThanOrEqual(width);
    expect(sizes.boxes.every((over) => over <= 0)).toBe(true);
    for (const [left, right] of sizes.cells) {
      expect(left).toBeGreaterThanOrEqual(0);
      expect(right).toBeLessThanOrEqual(width);
    }
    if (width === 390) {
      await page.screenshot({ path: path.join(OUTPUT, 'admin-dashboard-390.png'), fullPage: true });
      await page.screenshot({ path: path.join(OUTPUT, 'admin-dashboard-390-first-screen.png') });
      await page.locator('#dead-letters').screenshot({ path: path.join(OUTPUT, 'admin-dashboard-390-dead-letters.png') });
      await page.locator('#queue').screenshot({ path: path.join(OUTPUT, 'admin-dashboard-390-queue.png') });
      await page.locator('#user').screenshot({ path: path.join(OUTPUT, 'admin-dashboard-390-user.png') });
    }
  });

  it.each([390, 1126])('at %i px, after "Retry all" the confirmation is in view (no JavaScript)', async (width) => {
    const page = await open(width, false);
    const dead = (await h.store.listDeadLetters()).length;
    expect(dead).toBeGreaterThan(0);
    // MantaGo refuses the retried call again, so the next width has a dead letter to retry too.
    mantago.api.enqueue({ status: 400, body: mantagoError(400, 'tag not found') });
    const deadBefore = running.outcomes.filter((o) => o.outcome === 'dead').length;
    await Promise.all([page.waitForURL(/retried=/), page.locator('#dead-letters button', { hasText: 'Retry all' }).click()]);
    const flash = page.locator('#dead-letters .flash');
    expect(await flash.innerText()).toBe(`Queued ${dead} dead letter${dead === 1 ? '' : 's'} again.`);
    const box = (await flash.boundingBox())!;
    expect(box.y).toBeGreaterThanOrEqual(0);
    expect(box.y + box.height).toBeLessThanOrEqual(900);
    await running.waitForOutcomes(deadBefore + 1, (o) => o.outcome === 'dead');
  });

  it('a refused rule edit: a banner with FILE:LINE:COLUMN on /admin, and /readyz says so with 200', async () => {
    const file = path.join(h.config.rulesDir, 'rules.yaml');
    const good = fs.readFileSync(file, 'utf8');
    const before = reloads.length;
    fs.writeFileSync(file, good.replace('contains: [vip]', 'contians: [vip]'));
    await waitFor(() => reloads.slice(before).some((r) => !r.applied));

    const page = await open(1280);
    const banner = page.locator('#rules-refused');
    const text = await banner.innerText();
    expect(text).toMatch(/A rule edit was refused/);
    expect(text).toMatch(/rules\.yaml:\d+:\d+: .*contians/);
    expect(text).toMatch(/last good set of 2 rules stays in force, as loaded at \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/);
    // The banner is the first thing on the page, above the charts.
    expect((await banner.boundingBox())!.y).toBeLessThan((await page.locator('#activity').boundingBox())!.y);
    await page.screenshot({ path: path.join(OUTPUT, 'admin-dashboard-refused-edit.png') });

    const ready = await request(origin).get('/readyz').expect(200);
    expect(ready.body).toMatchObject({ status: 'ready', rules: 2 });
    expect(ready.body.rulesRefused.errors[0]).toMatch(/rules\.yaml:\d+:\d+: .*contians/);
    expect(Date.parse(ready.body.rulesRefused.since)).toBeGreaterThanOrEqual(Date.parse(ready.body.rulesRefused.inForceSince));

    const fixed = reloads.length;
    fs.writeFileSync(file, good);
    await waitFor(() => reloads.slice(fixed).some((r) => r.applied));
    await page.reload();
    expect(await page.locator('#rules-refused').count()).toBe(0);
    expect((await request(origin).get('/readyz').expect(200)).body.rulesRefused).toBeUndefined();
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
