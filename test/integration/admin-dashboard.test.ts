import request from 'supertest';
import { createAdminRouter } from '../../src/admin';
import { chartWindows, windowActivity } from '../../src/admin/activity';
import { niceCeiling } from '../../src/admin/views/charts';
import { createApp, type App } from '../../src/app';
import { RulesHolder } from '../../src/rules/watch-rules';
import { lineBody, lineText, loadRules, startHarness, type Harness } from '../helpers/app-harness';
import { signLine } from '../helpers/signatures';
import { accepted, batch } from '../store/builders';

const TOKEN = 'dashboard-token-for-tests-0a1b2c3d';
const LINE_SECRET = 'line-secret-dashboard-tests';
const HOUR = 3_600_000;

describe('/admin charts and refused rule edits (HTML and JSON)', () => {
  let h: Harness;
  let holder: RulesHolder;
  let app: App;
  let now: number;

  beforeEach(async () => {
    h = await startHarness({ ADMIN_TOKEN: TOKEN, LINE_CHANNEL_SECRET: LINE_SECRET });
    now = Date.now();
    holder = new RulesHolder(h.ruleSet, () => now);
    const admin = createAdminRouter({ config: h.config, store: h.store, rules: () => holder.current(), refusedEdit: () => holder.refusedEdit(), log: h.log, now: () => now });
    app = createApp({ config: h.config, log: h.log, metrics: h.metrics, store: h.store, rules: holder, admin });
  });
  afterEach(async () => {
    await h.cleanup();
  });

  const get = (path: string) => request(app).get(path).set('authorization', `Bearer ${TOKEN}`);

  async function postLine(texts: string[]): Promise<void> {
    const body = lineBody(texts.map((t, i) => lineText(t, `Uchartuser0000000000000000000000${i}`)));
    await request(app).post('/webhooks/line').set('content-type', 'application/json').set('x-line-signature', signLine(body, LINE_SECRET)).send(body).expect(200);
  }

  it('draws the webhooks of real requests as inline SVG, with no script and no style attribute', async () => {
    await postLine(['我要優惠券']);
    await postLine(['coupon please', 'hello']);
    await postLine(['hello']);
    now = Date.now();
    const res = await get('/admin').expect(200);
    expect(res.headers['content-security-policy']).toBe("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    const html = res.text;
    expect(html).not.toMatch(/<script|\sstyle=/i);
    // Above the tables.
    expect(html.indexOf('<section id="activity">')).toBeGreaterThan(0);
    expect(html.indexOf('<section id="activity">')).toBeLessThan(html.indexOf('<section id="queue">'));
    for (const w of ['24h', '1h']) {
      expect(html).toContain(`<figure class="chart" id="chart-${w}-webhooks" data-total="3">`);
      expect(html).toContain(`<figure class="chart" id="chart-${w}-rules" data-total="2">`);
      expect(html).toMatch(new RegExp(`id="chart-${w}-rules"[\\s\\S]*?<g class="rule" data-rule="coupon" data-count="2">`));
    }
    expect(html).toMatch(/<svg viewBox="0 0 300 140" role="img" aria-label="Webhooks received by platform, last 24 hours: 3 in all">/);
    // One bar in each chart holds all three (they arrived within a minute), its title says when and how many.
    expect(html).toMatch(/<g class="bar" data-count="3"><title>\d{4}-\d\d-\d\d \d\d:\d\d–\d\d:\d\d UTC: line 3<\/title><rect class="k-p0"/);
  });

  it('puts older activity in the 24-hour charts only, and leaves out what is older than 24 hours', async () => {
    await h.store.accept(batch(now - 30 * HOUR, [accepted('old', [], { matched: ['coupon'] })]));
    await h.store.accept(batch(now - 2 * HOUR, [accepted('earlier', [], { matched: ['coupon'] })]));
    await h.store.accept(batch(now - 5 * 60_000, [accepted('recent', [], { matched: ['churned'] })]));
    const json = (await get('/admin/status.json').expect(200)).body;
    expect(json.activity['24h']).toMatchObject({ webhooks: { line: 2 }, ruleMatches: 2, topRules: [{ rule: 'churned', count: 1 }, { rule: 'coupon', count: 1 }] });
    expect(json.activity['1h']).toMatchObject({ webhooks: { line: 1 }, ruleMatches: 1, topRules: [{ rule: 'churned', count: 1 }] });
    expect(json.activity['24h'].calls).toEqual({ applied: 0, retry: 0, dead: 0 });
    expect(Date.parse(json.activity['1h'].from)).toBeLessThanOrEqual(now - HOUR + 60_000);
  });

  it('a refused edit: the banner names FILE:LINE:COLUMN (escaped) and since when, /readyz stays 200 and says so', async () => {
    const loadedAt = now;
    now += 60_000;
    holder.reject(['rules/campaign.yaml:7:12: unknown key "contians" <b>', 'rules/campaign.yaml:9:3: then: expected a list']);
    now += 60_000;
    // A second broken save keeps the time of the first.
    holder.reject(['rules/campaign.yaml:7:12: unknown key "contians" <b>', 'rules/campaign.yaml:9:3: then: expected a list']);
    const html = (await get('/admin').expect(200)).text;
    const banner = /<section id="rules-refused" class="error" role="alert">[\s\S]*?<\/section>/.exec(html)?.[0] ?? '';
    expect(banner).toContain('<li><code>rules/campaign.yaml:7:12</code>: unknown key &quot;contians&quot; &lt;b&gt;</li>');
    expect(banner).toContain('<li><code>rules/campaign.yaml:9:3</code>: then: expected a list</li>');
    expect(banner).toContain(`since <time datetime="${new Date(loadedAt + 60_000).toISOString()}">`);
    expect(banner).toContain(`last good set of 3 rules stays in force, as loaded at <time datetime="${new Date(loadedAt).toISOString()}">`);
    expect(html.indexOf('id="rules-refused"')).toBeLessThan(html.indexOf('<section id="activity">'));

    const refused = { errors: ['rules/campaign.yaml:7:12: unknown key "contians" <b>', 'rules/campaign.yaml:9:3: then: expected a list'], since: new Date(loadedAt + 60_000).toISOString(), inForceSince: new Date(loadedAt).toISOString() };
    const ready = await request(app).get('/readyz').expect(200);
    expect(ready.body).toEqual({ status: 'ready', store: 'sqlite', rules: 3, rulesRefused: refused });
    expect((await get('/admin/status.json').expect(200)).body.rulesRefused).toEqual(refused);

    // The files load again: no banner, nothing refused.
    now += 60_000;
    holder.replace(await loadRules(h.config.rulesDir));
    expect((await get('/admin').expect(200)).text).not.toContain('id="rules-refused"');
    expect((await request(app).get('/readyz').expect(200)).body).toEqual({ status: 'ready', store: 'sqlite', rules: 3 });
    expect((await get('/admin/status.json').expect(200)).body.rulesRefused).toBeNull();
  });
});

describe('/admin setup checklist', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.cleanup();
    h = undefined;
  });

  async function page(env: Record<string, string>): Promise<{ html: string; json: Record<string, unknown> }> {
    h = await startHarness({ ADMIN_TOKEN: TOKEN, ...env });
    const harness = h;
    const admin = createAdminRouter({ config: harness.config, store: harness.store, rules: () => harness.ruleSet, log: harness.log });
    const app = createApp({ config: harness.config, log: harness.log, metrics: harness.metrics, store: harness.store, rules: { current: () => harness.ruleSet }, admin });
    const html = (await request(app).get('/admin').set('authorization', `Bearer ${TOKEN}`).expect(200)).text;
    const json = (await request(app).get('/admin/status.json').set('authorization', `Bearer ${TOKEN}`).expect(200)).body as Record<string, unknown>;
    return { html, json };
  }

  it('is the first panel: each endpoint enabled or disabled and why, each account, the store, the rules — open when something needs a look', async () => {
    const { html, json } = await page({ LINE_CHANNEL_SECRET: LINE_SECRET });
    const panel = /<details id="setup" class="panel" open>[\s\S]*?<\/details>/.exec(html)?.[0] ?? '';
    expect(panel).not.toBe('');
    expect(html.indexOf('<details id="setup"')).toBeLessThan(html.indexOf('<section id="activity">'));
    expect(panel).toContain('<summary><strong>Setup</strong>: 1 of 3 webhook endpoints enabled, 0 of 2 accounts configured, SQLite, 3 rules — <span class="dead">needs a look</span></summary>');
    expect(panel).toContain('<li class="ok"><span class="mark" aria-hidden="true">✓</span><span class="sr">done: </span>/webhooks/line: enabled, signatures checked with LINE_CHANNEL_SECRET</li>');
    expect(panel).toMatch(/<li class="todo">.*?\/webhooks\/facebook: disabled, FACEBOOK_APP_SECRET is not set<\/li>/);
    expect(panel).toMatch(/<li class="todo">.*?account mantago \(MantaGo, from the environment\): not configured, MANTAGO_TOKEN is not set/);
    expect(panel).toMatch(/<li class="ok">.*?store: SQLite, file \S+autotag\.db \(DATA_DIR\) answers\.<\/li>/);
    expect(panel).toMatch(/<li class="ok">.*?rules: 3 rules \(3 enabled\) from 1 file in /);
    // The same objects as the start log, in the JSON.
    expect(json.setup).toMatchObject({ store: { engine: 'sqlite' }, rules: { rules: 3, files: 1 } });
    expect((json.setup as { endpoints: { channel: string; enabled: boolean; reason?: string }[] }).endpoints.find((e) => e.channel === 'facebook')).toMatchObject({
      enabled: false,
      reason: 'FACEBOOK_APP_SECRET is not set',
    });
  });

  it('folds to one line when everything is set up', async () => {
    const { html } = await page({
      LINE_CHANNEL_SECRET: LINE_SECRET,
      FACEBOOK_APP_SECRET: 'meta-secret-checklist',
      FACEBOOK_VERIFY_TOKEN: 'verify-checklist',
      MANTAGO_TOKEN: 'mantago-token-checklist',
      MANTAGO_SECRET: 'mantago-secret-checklist',
      MANTAGO_BOT_ID: '42',
      BOTBONNIE_TOKEN: 'botbonnie-token-checklist',
      BOTBONNIE_BOT_ID: 'bot-42',
    });
    expect(html).toContain('<details id="setup" class="panel">');
    expect(html).toMatch(/<summary><strong>Setup<\/strong>: 3 of 3 webhook endpoints enabled, 2 of 2 accounts configured, SQLite, 3 rules — all set<\/summary>/);
    expect(html).not.toContain('<li class="todo">');
  });
});

describe('chart arithmetic', () => {
  it('rounds the axis up to 1, 2 or 5 times a power of ten', () => {
    expect([0, 1, 2, 3, 7, 10, 11, 99, 101, 3000, 3001].map(niceCeiling)).toEqual([1, 1, 2, 5, 10, 10, 20, 100, 200, 5000, 5000]);
  });

  it('puts each minute in its bar; the last bar ends with the current minute', () => {
    const now = Date.UTC(2026, 11, 9, 12, 30, 15);
    const [day, hour] = chartWindows(now);
    const minute = Date.UTC(2026, 11, 9, 12, 30);
    const rows = [
      { minute, series: 'webhook' as const, key: 'line', count: 2 },
      { minute: minute - 59 * 60_000, series: 'webhook' as const, key: 'facebook', count: 1 },
      { minute: minute - 60 * 60_000, series: 'webhook' as const, key: 'line', count: 4 },
      { minute: minute - 24 * HOUR, series: 'webhook' as const, key: 'line', count: 8 },
    ];
    const h = windowActivity(rows, hour!);
    expect(h.webhooks.values.get('line')![59]).toBe(2);
    expect(h.webhooks.values.get('facebook')![0]).toBe(1);
    expect(h.webhooks.total).toBe(3);
    const d = windowActivity(rows, day!);
    expect(d.webhooks.total).toBe(7);
    expect(d.webhooks.values.get('line')![23]).toBe(2);
    expect(d.webhooks.values.get('line')![22]).toBe(4);
    expect(d.webhooks.keys).toEqual(['line', 'facebook']);
  });
});
