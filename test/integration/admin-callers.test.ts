import request from 'supertest';
import { createAdminRouter } from '../../src/admin';
import { createApp } from '../../src/app';
import { silentLogger } from '../../src/log';
import { createPostgresStore } from '../../src/store/postgres';
import type { Liveness } from '../../src/store/postgres/liveness';
import type { InstanceSession, Store, StoreStatus } from '../../src/store/store';
import { COUPON_RULES, startHarness, type Harness } from '../helpers/app-harness';
import { describePostgres } from '../helpers/pg-schema';
import { ask } from '../store/builders';
import { until } from '../store/pg-waits';

/*
 * /admin names the instance calling each provider account (README "The status page"): the real
 * app and admin router over a real PostgreSQL store whose session holds one role, beside another
 * store (another instance) holding a second one, with a third account's operations waiting.
 */

const TOKEN = 'admin-callers-token-4b7e19c2d0';
const MANTAGO = { MANTAGO_TOKEN: 'admin-callers-token', MANTAGO_BOT_ID: '1234', MANTAGO_SECRET: 'admin-callers-secret' };

describePostgres('/admin: the caller of each provider account (PostgreSQL)', (url) => {
  let h: Harness;
  let other: Store;
  let mine: InstanceSession;
  let theirs: InstanceSession;

  const held = async (s: InstanceSession, account: string) => {
    s.callers!.want(account);
    await until(`the role of ${account} is held`, async () => s.callers!.holds(account));
  };
  const page = async (providerCallers: 'one' | 'every') => {
    const config = { ...h.config, providerCallers };
    const admin = createApp({ config, log: h.log, metrics: h.metrics, store: h.store, rules: { current: () => h.ruleSet }, admin: createAdminRouter({ config, store: h.store, rules: () => h.ruleSet, log: h.log }) });
    const html = await request(admin).get('/admin').set('authorization', `Bearer ${TOKEN}`).expect(200);
    const json = await request(admin).get('/admin/status.json').set('authorization', `Bearer ${TOKEN}`).expect(200);
    return { html: html.text, queue: json.body.queue as StoreStatus };
  };

  beforeEach(async () => {
    h = await startHarness({ ADMIN_TOKEN: TOKEN, ...MANTAGO }, { 'rules.yaml': COUPON_RULES }, { engine: 'postgres', url });
    other = createPostgresStore({ url, schema: h.schema, log: silentLogger(), poolSize: 2, connectTimeoutMs: 3000, statementTimeoutMs: 10_000 });
    [mine, theirs] = await Promise.all([h.store.startSession(), other.startSession()]);
    await held(mine, 'mantago');
    await held(theirs, 'brand-a');
    await ask(h.store, Date.now() - 10_000, { account: 'brand-a', channel: 'brand-a-line' });
    await ask(h.store, Date.now() - 5_000, { account: 'brand-b', channel: 'brand-b-line' });
  });
  afterEach(async () => {
    await other.close();
    await h.cleanup();
  });

  it('lists each held role with its instance (this one marked), and the account whose pending operations nobody calls', async () => {
    const { html, queue } = await page('one');
    const list = html.slice(html.indexOf('<ul id="callers">'), html.indexOf('</ul>', html.indexOf('<ul id="callers">')));
    const items = [...list.matchAll(/<li>([\s\S]*?)<\/li>/g)].map((m) => m[1]);
    expect(items).toEqual([
      expect.stringMatching(new RegExp(`^<code>brand-a</code>: called by instance ${(theirs as Liveness).holder} \\(autotag .+ pid ${process.pid}, client 127\\.0\\.0\\.1, database pid \\d+\\), its session held since [0-9T:.-]+Z$`)),
      '<code>brand-b</code>: <span class="dead">no instance holds its caller role: its pending operation waits until one takes it</span>',
      expect.stringMatching(new RegExp(`^<code>mantago</code>: called by instance ${(mine as Liveness).holder} .* — <strong>this instance</strong>$`)),
    ]);
    expect(html).toContain('PROVIDER_CALLERS=one: only the instance holding its role calls it');
    // status.json: the same, under queue.callers.
    expect(queue.callers?.map((c) => [c.account, c.holder?.instance ?? null, c.holder?.thisInstance ?? false, c.pending])).toEqual([
      ['brand-a', (theirs as Liveness).holder, false, 1],
      ['brand-b', null, false, 1],
      ['mantago', (mine as Liveness).holder, true, 0],
    ]);
  });

  it('PROVIDER_CALLERS=every: the held roles only, no account said to wait', async () => {
    const { html } = await page('every');
    expect(html).toContain('<code>brand-a</code>: called by instance');
    expect(html).toContain('<code>mantago</code>: called by instance');
    expect(html).not.toContain('no instance holds');
  });
});
