import request from 'supertest';
import { createAdminRouter } from '../../src/admin';
import { createApp, type App } from '../../src/app';
import { runTest } from '../../src/cli/test-command';
import { COUPON_RULES, lineBody, lineText, startHarness, type Harness } from '../helpers/app-harness';
import { signLine } from '../helpers/signatures';

const TOKEN = 'admin-token-for-tests-5f1c2a9e';
const LINE_SECRET = 'line-secret-admin-tests';
const DESTINATION = 'Uadmindestination000000000000000001';
const HOSTILE = '<script>alert(1)</script>';

const RULES = {
  'rules.yaml':
    COUPON_RULES +
    `
  - id: bonnie-vip
    when: { text: { equals: vip } }
    then:
      - add_tag: bonnie-vip
        provider: botbonnie
`,
};

interface AdminHarness extends Harness {
  admin: App;
  /** How often the router called onRetry. */
  retried: { count: number };
  /** Moves the admin page's clock (session expiry); the store keeps real time. */
  advance(ms: number): void;
}

/** The real app with the admin router mounted, over a real SQLite store. */
async function startAdmin(env: Record<string, string> = {}, rules: Record<string, string> = RULES): Promise<AdminHarness> {
  const h = await startHarness({ ADMIN_TOKEN: TOKEN, LINE_CHANNEL_SECRET: LINE_SECRET, HISTORY_STORE_TEXT: '1', ...env }, rules);
  let offset = 0;
  const retried = { count: 0 };
  const router = createAdminRouter({
    config: h.config,
    store: h.store,
    rules: () => h.ruleSet,
    log: h.log,
    now: () => Date.now() + offset,
    onRetry: () => void retried.count++,
  });
  const admin = createApp({ config: h.config, log: h.log, metrics: h.metrics, store: h.store, rules: { current: () => h.ruleSet }, admin: router });
  return Object.assign(h, {
    admin,
    retried,
    advance: (ms: number) => void (offset += ms),
  });
}

async function postLine(h: Harness, events: Record<string, unknown>[]): Promise<void> {
  const body = lineBody(events, DESTINATION);
  await request(h.app).post('/webhooks/line').set('content-type', 'application/json').set('x-line-signature', signLine(body, LINE_SECRET)).send(body).expect(200);
}

/** A coupon message from `userId` through the real webhook, its operation then dead-lettered as the worker would. */
async function seedDeadLetter(h: Harness, userId: string, text = '我要優惠券', bodyExcerpt = '{"success":false,"errResponse":{"message":"tag not found"}}'): Promise<string> {
  await postLine(h, [lineText(text, userId)]);
  const now = Date.now();
  const [op] = await h.store.claimOperations({ scope: { account: 'mantago' }, limit: 1, owner: 'admin-test', now, leaseMs: 30_000 });
  if (!op) throw new Error('expected a claimed operation after the coupon message');
  await h.store.deadLetterOperation(op, 'admin-test', now, { reason: '400 from mantago: tag not found', status: 400, bodyExcerpt });
  const letters = await h.store.listDeadLetters();
  const id = letters.find((d) => d.operation?.userId === userId)?.id;
  if (!id) throw new Error(`no dead letter for ${userId}: ${JSON.stringify(letters)}`);
  return id;
}

const asBrowser = (r: request.Test) => r.set('accept', 'text/html,application/xhtml+xml,*/*;q=0.8');
const bearer = (r: request.Test) => r.set('authorization', `Bearer ${TOKEN}`);

async function logIn(h: AdminHarness): Promise<{ cookie: string; csrf: string }> {
  const res = await request(h.admin).post('/admin/login').type('form').send({ token: TOKEN }).expect(303);
  const setCookie = res.headers['set-cookie'] as unknown as string[];
  const cookie = setCookie[0]!.split(';')[0]!;
  const page = await asBrowser(request(h.admin).get('/admin').set('cookie', cookie)).expect(200);
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1];
  if (!csrf) throw new Error('no csrf field on the page');
  return { cookie, csrf };
}

describe('/admin without ADMIN_TOKEN', () => {
  it('answers 404, even when a router is passed in', async () => {
    const h = await startHarness({});
    try {
      await request(h.app).get('/admin').expect(404);
      await request(h.app).get('/admin/login').expect(404);
      const router = createAdminRouter({ config: h.config, store: h.store, rules: () => h.ruleSet, log: h.log });
      const app = createApp({ config: h.config, log: h.log, metrics: h.metrics, store: h.store, rules: { current: () => h.ruleSet }, admin: router });
      const res = await request(app).get('/admin').set('authorization', 'Bearer anything').expect(404);
      expect(res.body.error).toMatch(/ADMIN_TOKEN/);
      // The router alone refuses as well, should it be mounted by hand.
      const express = (await import('express')).default;
      const bare = express().use('/admin', router);
      await request(bare).get('/admin').expect(404);
    } finally {
      await h.cleanup();
    }
  });
});

describe('/admin', () => {
  let h: AdminHarness;
  beforeEach(async () => {
    h = await startAdmin();
  });
  afterEach(async () => {
    await h.cleanup();
  });

  describe('without the right token: 401 and no data', () => {
    let deadId: string;
    const USER = 'Usecretuser0000000000000000000001';
    beforeEach(async () => {
      deadId = await seedDeadLetter(h, USER);
    });
    const assertNoData = (text: string) => {
      expect(text).not.toContain(deadId);
      expect(text).not.toContain(USER);
      expect(text).not.toContain('tag-coupon');
      expect(text).not.toContain('tag not found');
      expect(text).not.toContain('優惠券');
      expect(text).not.toContain(TOKEN);
    };

    it('a browser gets a 401 page with the login form on it', async () => {
      const res = await asBrowser(request(h.admin).get('/admin')).expect(401);
      expect(res.headers['content-type']).toMatch(/text\/html/);
      expect(res.text).toContain('name="token"');
      expect(res.text).toContain('action="/admin/login"');
      assertNoData(res.text);
    });

    it('a script gets 401 JSON, with a WWW-Authenticate header', async () => {
      for (const path of ['/admin', '/admin/status.json', `/admin/history.json?user=${USER}`, '/admin/playground.json?text=coupon']) {
        const res = await request(h.admin).get(path).expect(401);
        expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
        expect(res.body.error).toMatch(/^unauthorized \(no Bearer token and no session cookie\)/);
        assertNoData(res.text);
      }
    });

    it('a wrong Bearer token, a token sent another way, or a forged cookie gets 401', async () => {
      const attempts: [string, string][] = [
        ['authorization', `Bearer ${TOKEN}-not`],
        ['authorization', `Bearer ${TOKEN.slice(1)}`],
        ['authorization', TOKEN],
        ['cookie', `autotag_admin=${TOKEN}`],
        ['cookie', 'autotag_admin=v1.abc.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
      ];
      for (const [header, value] of attempts) {
        const res = await asBrowser(request(h.admin).get(`/admin?user=${USER}`).set(header, value)).expect(401);
        assertNoData(res.text);
        const json = await request(h.admin).get('/admin/status.json').set(header, value).expect(401);
        assertNoData(json.text);
      }
    });

    it('a retry without the token changes nothing', async () => {
      await request(h.admin).post('/admin/retry').type('form').send({ id: deadId }).expect(401);
      await request(h.admin).post('/admin/retry').type('form').send({ all: '1' }).set('authorization', 'Bearer nope').expect(401);
      expect((await h.store.status(Date.now())).operations).toMatchObject({ dead: 1, pending: 0 });
      expect(h.retried.count).toBe(0);
    });
  });

  it('Bearer: the page shows the queue, the dead letter with its reason and body, recent events and the rules in force', async () => {
    const deadId = await seedDeadLetter(h, 'Ubearer');
    await postLine(h, [lineText('hello there', 'Ubearer2')]);
    const res = await bearer(request(h.admin).get('/admin')).expect(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(res.text).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(res.text).toMatch(/Rules in force: <strong>4<\/strong> rules from 1 file/);
    expect(res.text).toContain(`<code>${deadId}</code>`);
    expect(res.text).toContain('400 from mantago: tag not found');
    expect(res.text).toContain('{&quot;success&quot;:false,&quot;errResponse&quot;:{&quot;message&quot;:&quot;tag not found&quot;}}');
    expect(res.text).toContain(`name="id" value="${deadId}"`);
    expect(res.text).toContain('Retry all 1');
    // queue row: tag operations, pending 0, due 0, leased 0, dead 1
    // Each cell names its column (data-label: a phone shows rows as cards).
    expect(res.text).toMatch(
      /<td data-label="">tag operations<\/td><td class="num" data-label="pending">0<\/td><td class="num" data-label="due now">0<\/td><td class="num" data-label="being sent">0<\/td><td class="num" data-label="dead letters"><span class="dead">1<\/span><\/td>/,
    );
    // recent events, newest first, with matched rules
    const events = res.text.slice(res.text.indexOf('id="recent-events"'), res.text.indexOf('id="playground"'));
    expect(events.indexOf('Ubearer2')).toBeLessThan(events.indexOf('Ubearer<'));
    expect(events).toContain('<code>coupon</code>');
    expect(events).toContain('add mantago/personal tag tag-coupon');
    expect(events).toContain('<q>hello there</q>');
    // a Bearer request has no session: no log-out button, no CSRF value
    expect(res.text).not.toContain('/admin/logout');
    expect(res.text).toContain('name="csrf" value=""');

    const json = await bearer(request(h.admin).get('/admin/status.json')).expect(200);
    expect(json.body.rules).toEqual({ count: 4, enabled: 4, files: h.ruleSet.files });
    expect(json.body.queue.operations).toMatchObject({ pending: 0, dead: 1 });
    expect(json.body.deadLetters).toEqual(JSON.parse(JSON.stringify(await h.store.listDeadLetters())));
    expect(json.body.recentEvents.map((e: { userId: string }) => e.userId)).toEqual(['Ubearer2', 'Ubearer']);
    // SQLite: one process makes every call, so nothing is said of caller roles.
    expect(res.text).not.toContain('id="callers"');
    expect(json.body.queue).not.toHaveProperty('callers');
  });

  it('matches its paths as written, as every route of the app: another case is 404', async () => {
    for (const url of ['/ADMIN', '/Admin/status.json', '/admin/STATUS.JSON', '/admin/Login']) {
      const res = await bearer(request(h.admin).get(url));
      expect([url, res.status, res.body]).toEqual([url, 404, { error: `no route for GET ${url}` }]);
    }
    await bearer(request(h.admin).get('/admin/status.json/')).expect(200);
  });

  it('its requests are timed under their full paths in /metrics (not "/" and "/login")', async () => {
    await bearer(request(h.admin).get('/admin')).expect(200);
    await request(h.admin).get('/admin/login').expect(200);
    const metrics = await request(h.admin).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/autotag_http_request_duration_seconds_count\{method="GET",route="\/admin",status="200"\} \d+/);
    expect(metrics.text).toMatch(/autotag_http_request_duration_seconds_count\{method="GET",route="\/admin\/login",status="200"\} \d+/);
    expect(metrics.text).not.toMatch(/route="\/(login)?"/);
  });

  describe('login form', () => {
    it('GET /admin/login shows the form without data', async () => {
      await seedDeadLetter(h, 'Uloginform');
      const res = await request(h.admin).get('/admin/login').expect(200);
      expect(res.text).toContain('<input type="password" name="token"');
      expect(res.text).not.toContain('Uloginform');
    });

    it('the right token sets an HttpOnly, Secure, SameSite=Strict session cookie that is not the token', async () => {
      const res = await request(h.admin).post('/admin/login').type('form').send({ token: TOKEN }).expect(303);
      expect(res.headers.location).toBe('/admin');
      const setCookie = res.headers['set-cookie'] as unknown as string[];
      expect(setCookie).toHaveLength(1);
      const cookie = setCookie[0]!;
      expect(cookie).toMatch(/^autotag_admin=v1\.[0-9a-z]+\.[A-Za-z0-9_-]{43}; /);
      expect(cookie).toMatch(/; HttpOnly(;|$)/);
      expect(cookie).toMatch(/; Secure(;|$)/);
      expect(cookie).toMatch(/; SameSite=Strict(;|$)/);
      expect(cookie).toMatch(/; Path=\/admin(;|$)/);
      expect(cookie).not.toContain(TOKEN);
      const page = await asBrowser(request(h.admin).get('/admin').set('cookie', cookie.split(';')[0]!)).expect(200);
      expect(page.text).toContain('id="dead-letters"');
      expect(page.text).toContain('/admin/logout');
    });

    it('a wrong token gets 401, the form again, no cookie, and a warning in the log without the typed value', async () => {
      const res = await request(h.admin).post('/admin/login').type('form').send({ token: 'guess-guess-guess' }).expect(401);
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(res.text).toContain('That is not the admin token.');
      expect(res.text).toContain('name="token"');
      expect(h.logs.text).toContain('admin login refused');
      expect(h.logs.text).not.toContain('guess-guess-guess');
      await request(h.admin).post('/admin/login').type('form').send({}).expect(401);
    });

    it('a session stops working after 12 hours', async () => {
      const { cookie } = await logIn(h);
      h.advance(12 * 3600_000 + 1000);
      const res = await asBrowser(request(h.admin).get('/admin').set('cookie', cookie)).expect(401);
      expect(res.text).toContain('Your session has expired');
    });

    it('log out needs the CSRF value and then clears the cookie', async () => {
      const { cookie, csrf } = await logIn(h);
      await request(h.admin).post('/admin/logout').set('cookie', cookie).type('form').send({}).expect(403);
      const res = await request(h.admin).post('/admin/logout').set('cookie', cookie).type('form').send({ csrf }).expect(303);
      expect(res.headers.location).toBe('/admin/login');
      expect((res.headers['set-cookie'] as unknown as string[])[0]).toMatch(/^autotag_admin=; Path=\/admin; Max-Age=0;/);
    });
  });

  describe('retry', () => {
    it('with the session: refused without the CSRF value, then moves the dead letter back to pending and wakes the worker', async () => {
      const deadId = await seedDeadLetter(h, 'Uretry');
      const { cookie, csrf } = await logIn(h);
      const forged = await request(h.admin).post('/admin/retry').set('cookie', cookie).type('form').send({ id: deadId }).expect(403);
      expect(forged.body.error).toMatch(/csrf/);
      await request(h.admin).post('/admin/retry').set('cookie', cookie).type('form').send({ id: deadId, csrf: `${csrf}x` }).expect(403);
      expect((await h.store.status(Date.now())).operations).toMatchObject({ dead: 1, pending: 0 });
      expect(h.retried.count).toBe(0);

      const res = await request(h.admin).post('/admin/retry').set('cookie', cookie).type('form').send({ id: deadId, csrf }).expect(303);
      expect(res.headers.location).toBe(`/admin?retried=1&which=${deadId}#dead-letters`);
      expect((await h.store.status(Date.now())).operations).toMatchObject({ dead: 0, pending: 1, due: 1 });
      expect(await h.store.listDeadLetters()).toEqual([]);
      expect(h.retried.count).toBe(1);

      const page = await asBrowser(request(h.admin).get(res.headers.location!.split('#')[0]!).set('cookie', cookie)).expect(200);
      expect(page.text).toContain(`Queued ${deadId} again.`);
      expect(page.text).toContain('None: nothing is stuck.');
      expect(page.text).not.toContain(`name="id" value="${deadId}"`);
    });

    it('retry of an id that is no dead letter says so; a malformed id is a 400', async () => {
      const res = await bearer(request(h.admin).post('/admin/retry')).type('form').send({ id: 'op-999' }).expect(303);
      expect(res.headers.location).toBe('/admin?retried=0&which=op-999#dead-letters');
      const page = await bearer(request(h.admin).get('/admin?retried=0&which=op-999')).expect(200);
      expect(page.text).toContain('op-999 is not a dead letter (any more): nothing was queued.');
      expect(h.retried.count).toBe(0);
      const bad = await bearer(request(h.admin).post('/admin/retry')).type('form').send({ id: 'op-1; DROP TABLE' }).expect(400);
      expect(bad.body.error).toMatch(/give id=op-N/);
      // Ids the store does not write (a leading zero, a zero): a 400 as well, read as the store reads ids (they were a 500).
      for (const id of ['op-02', 'op-0', 'fwd-00']) {
        const zero = await bearer(request(h.admin).post('/admin/retry')).type('form').send({ id }).expect(400);
        expect(zero.body.error).toBe(`retry: give id=op-N or id=fwd-N (see the dead letters), or all=1; got ${JSON.stringify(id)}`);
      }
    });

    it('retry with a JSON body says which encoding it takes (415), and queues nothing', async () => {
      await seedDeadLetter(h, 'Ujson');
      const res = await bearer(request(h.admin).post('/admin/retry')).send({ all: '1' }).expect(415);
      expect(res.body.error).toBe(
        'retry: send the fields as application/x-www-form-urlencoded (id=op-N, id=fwd-N or all=1), as the page\'s form does; got "application/json" (from a shell: npx autotag dead-letters retry)',
      );
      expect(h.retried.count).toBe(0);
      expect(await h.store.listDeadLetters()).toHaveLength(1);
    });

    it('retry all with Bearer (no CSRF needed: another site cannot send the header)', async () => {
      await seedDeadLetter(h, 'Uall1');
      await seedDeadLetter(h, 'Uall2');
      expect((await h.store.status(Date.now())).operations.dead).toBe(2);
      const res = await bearer(request(h.admin).post('/admin/retry')).type('form').send({ all: '1' }).expect(303);
      expect(res.headers.location).toBe('/admin?retried=2&which=all#dead-letters');
      expect((await h.store.status(Date.now())).operations).toMatchObject({ dead: 0, pending: 2 });
      expect(h.retried.count).toBe(1);
    });
  });

  describe('rule playground', () => {
    it('shows the matched rules and the operations, as autotag test does', async () => {
      const res = await bearer(request(h.admin).get('/admin').query({ text: '我要優惠券', platform: 'line', event: 'message', data: '', at: '' })).expect(200);
      const section = res.text.slice(res.text.indexOf('id="playground-result"'));
      expect(section).toContain('Matched 1 rule (in evaluation order):');
      expect(section).toContain('<code>coupon</code>');
      expect(section).toContain('rules.yaml:');
      expect(section).toMatch(/<td data-label="action">add<\/td><td data-label="provider">mantago<\/td><td data-label="kind">personal<\/td><td data-label="tag"><code>tag-coupon<\/code><\/td>/);
      // the form keeps what was typed
      expect(res.text).toContain('name="text" value="我要優惠券"');
      expect(res.text).toContain('<option value="line" selected>line</option>');
      expect(res.text).toContain('<option value="whatsapp">whatsapp</option>');
    });

    it('answers exactly what `autotag test --json` prints, for several events', async () => {
      const cases: Record<string, string>[] = [
        { text: 'Coupon please', platform: 'facebook' },
        { event: 'postback', data: 'action=unsubscribe', platform: 'line' },
        { event: 'unfollow', platform: 'instagram' },
        { text: 'vip', platform: 'instagram', at: '2026-12-05T10:00:00+08:00' },
        { text: 'vip', platform: 'line' },
        { text: 'vip', platform: 'whatsapp' },
        { text: 'Coupon please', platform: 'whatsapp' },
        { text: 'nothing matches this', platform: 'line' },
      ];
      for (const c of cases) {
        const res = await bearer(request(h.admin).get('/admin/playground.json').query(c)).expect(200);
        let printed = '';
        const code = await runTest(
          { ...c, rules: h.config.rulesDir, json: true },
          { stdout: (t) => void (printed += t), stderr: () => undefined },
          { env: {}, now: Date.now, cwd: process.cwd() },
        );
        expect(code).toBe(0);
        expect(res.body).toEqual(JSON.parse(printed));
      }
      // Sanity: the cases do exercise matches, a left-out action and no match.
      const vipInstagram = await bearer(request(h.admin).get('/admin').query({ text: 'vip', platform: 'instagram' })).expect(200);
      expect(vipInstagram.text).toContain('Left out (1):');
      expect(vipInstagram.text).toContain('add botbonnie tag bonnie-vip: instagram users are not BotBonnie users (BotBonnie tags line and facebook users)');
      const vipWhatsapp = await bearer(request(h.admin).get('/admin').query({ text: 'vip', platform: 'whatsapp' })).expect(200);
      expect(vipWhatsapp.text).toContain('<option value="whatsapp" selected>whatsapp</option>');
      expect(vipWhatsapp.text).toContain('add botbonnie tag bonnie-vip: whatsapp users are not BotBonnie users (BotBonnie tags line and facebook users)');
      const none = await bearer(request(h.admin).get('/admin').query({ text: 'nothing matches this', platform: 'line' })).expect(200);
      expect(none.text).toContain('<strong>No rule matched</strong>: no tag operations.');
    });

    it('reports a bad time or platform instead of guessing', async () => {
      const res = await bearer(request(h.admin).get('/admin').query({ text: 'coupon', platform: 'line', at: '2026-12-05 10:00' })).expect(200);
      expect(res.text).toContain('is not an ISO 8601 time with an offset');
      const json = await bearer(request(h.admin).get('/admin/playground.json').query({ platform: 'telegram' })).expect(400);
      expect(json.body.error).toBe('playground.json: platform: unknown platform "telegram": use line, facebook, instagram, whatsapp');
    });
  });

  describe('user lookup', () => {
    it("shows the user's timeline: events, matched rules, tag calls and how each ended", async () => {
      const deadId = await seedDeadLetter(h, 'Ulookup');
      await postLine(h, [lineText('just saying hi', 'Ulookup')]);
      await postLine(h, [lineText('coupon', 'Usomeoneelse')]);
      const res = await bearer(request(h.admin).get('/admin').query({ user: 'Ulookup' })).expect(200);
      const section = res.text.slice(res.text.indexOf('id="user-result"'));
      expect(section).toContain('History of <code>Ulookup</code>: 2 events, 1 tag call.');
      expect(section).toContain('<q>我要優惠券</q>');
      expect(section).toContain('<q>just saying hi</q>');
      expect(section).toContain('matched <code>coupon</code>');
      expect(section).toContain('tag call: add mantago/personal tag tag-coupon');
      expect(section).toContain('<span class="dead">dead</span> (400)');
      expect(section).not.toContain('Usomeoneelse');
      expect(res.text).toContain('name="user" value="Ulookup"');
      expect(deadId).toMatch(/^op-\d+$/);

      const json = await bearer(request(h.admin).get('/admin/history.json').query({ user: 'Ulookup' })).expect(200);
      expect(json.body).toEqual(JSON.parse(JSON.stringify(await h.store.userHistory('Ulookup', 200))));
      await bearer(request(h.admin).get('/admin/history.json')).expect(400);
    });

    it('shows when a tag will expire, and what changed nothing and why', async () => {
      const trialRule = `
  - id: trial
    when: { text: { equals: start trial } }
    then:
      - add_tag: tag-trial
        for: 1h
`;
      await h.cleanup();
      h = await startAdmin({}, { 'rules.yaml': RULES['rules.yaml'] + trialRule });
      const at = Date.now();
      await postLine(h, [lineText('start trial', 'Utrial', { timestamp: at })]);
      // A redelivery from two hours ago: its hour had run out when it arrived.
      await postLine(h, [lineText('start trial', 'Utrial', { timestamp: at - 2 * 3_600_000, deliveryContext: { isRedelivery: true } })]);
      const res = await bearer(request(h.admin).get('/admin').query({ user: 'Utrial' })).expect(200);
      const section = res.text.slice(res.text.indexOf('id="user-result"'));
      expect(section).toContain('add mantago/personal tag tag-trial for 1h');
      expect(section).toContain('<h3>Will expire</h3>');
      const until = new Date(at + 3_600_000).toISOString();
      expect(section).toContain(`<time datetime="${until}">`);
      expect(section).toContain('<code>trial</code>');
      expect(section).toContain('no call: add mantago/personal tag tag-trial for 1h');
      expect(section).toContain('expired</span>: its lifetime (rule trial) had run out when it arrived: nothing to do');

      const json = await bearer(request(h.admin).get('/admin/history.json').query({ user: 'Utrial' })).expect(200);
      expect(json.body.expiring).toEqual([{ operation: expect.objectContaining({ tagId: 'tag-trial' }), expiresAt: at + 3_600_000, rule: 'trial' }]);
    });

    it('says so when a user has no history', async () => {
      const res = await bearer(request(h.admin).get('/admin').query({ user: 'Unobody' })).expect(200);
      expect(res.text).toContain('No history for user <code>Unobody</code>');
    });
  });

  it('escapes a hostile user id, message text, reason and response body everywhere they appear', async () => {
    const deadId = await seedDeadLetter(h, HOSTILE, `coupon ${HOSTILE}`, `<img src=x onerror=alert(2)>${HOSTILE}`);
    const escaped = '&lt;script&gt;alert(1)&lt;/script&gt;';
    const pages = [
      await bearer(request(h.admin).get('/admin')).expect(200),
      await bearer(request(h.admin).get('/admin').query({ user: HOSTILE })).expect(200),
      await bearer(request(h.admin).get('/admin').query({ text: `coupon ${HOSTILE}`, platform: 'line', data: HOSTILE, at: HOSTILE })).expect(200),
      await asBrowser(request(h.admin).post('/admin/login').type('form').send({ token: HOSTILE })).expect(401),
    ];
    for (const res of pages) {
      expect(res.text).not.toContain('<script');
      expect(res.text).not.toContain('<img');
    }
    const [overview, lookup, playground] = pages as [request.Response, request.Response, request.Response];
    expect(overview.text).toContain(`for line user <a href="/admin?user=%3Cscript%3Ealert(1)%3C%2Fscript%3E#user">${escaped}</a>`);
    expect(overview.text).toContain(`&lt;img src=x onerror=alert(2)&gt;${escaped}`);
    expect(overview.text).toContain(`<q>coupon ${escaped}</q>`);
    expect(lookup.text).toContain(`History of <code>${escaped}</code>: 1 event, 1 tag call.`);
    expect(lookup.text).toContain(`name="user" value="${escaped}"`);
    expect(playground.text).toContain(`time &quot;${escaped}&quot; is not an ISO 8601 time`);
    expect(playground.text).toContain(`name="text" value="coupon ${escaped}"`);
    expect(deadId).toMatch(/^op-\d+$/);
  });
});
