import path from 'node:path';
import Database from '../../src/store/sqlite/driver';
import request from 'supertest';
import { createAdminRouter } from '../../src/admin';
import { createApp, type App } from '../../src/app';
import { loadConfig } from '../../src/config';
import { startHarness, type Harness } from '../helpers/app-harness';

/**
 * Issue 17 part 8, against the real app over a real SQLite store: wrong tokens are
 * throttled per client, the client address comes from X-Forwarded-For only through
 * TRUST_PROXY_HOPS proxies, and logging out ends that session on the server.
 */

const TOKEN = 'admin-security-token-7e2d9c41';
const CLIENT_A = '203.0.113.7';
const CLIENT_B = '203.0.113.8';

interface AdminApp {
  h: Harness;
  /** The app with /admin mounted under `token` (default TOKEN), over the harness's store, with a clock tests move. */
  app: App;
  mount(token: string): App;
  advance(ms: number): void;
}

async function startAdmin(env: Record<string, string> = {}): Promise<AdminApp> {
  const h = await startHarness({ ADMIN_TOKEN: TOKEN, ...env });
  let offset = 0;
  const mount = (token: string) => {
    const config = loadConfig({ DATA_DIR: h.dataDir, RULES_DIR: h.config.rulesDir, ...env, ADMIN_TOKEN: token });
    const router = createAdminRouter({ config, store: h.store, rules: () => h.ruleSet, log: h.log, now: () => Date.now() + offset });
    return createApp({ config, log: h.log, metrics: h.metrics, store: h.store, rules: { current: () => h.ruleSet }, admin: router });
  };
  return { h, app: mount(TOKEN), mount, advance: (ms) => void (offset += ms) };
}

const from = (r: request.Test, client: string) => r.set('x-forwarded-for', client);
const statusJson = (app: App, client: string, token: string) => from(request(app).get('/admin/status.json'), client).set('authorization', `Bearer ${token}`);
const loginForm = (app: App, client: string, token: string) => from(request(app).post('/admin/login'), client).type('form').send({ token });

async function logIn(app: App, client = CLIENT_A, token = TOKEN): Promise<{ cookie: string; csrf: string }> {
  const res = await loginForm(app, client, token).expect(303);
  const cookie = (res.headers['set-cookie'] as unknown as string[])[0]!.split(';')[0]!;
  const page = await from(request(app).get('/admin'), client).set('accept', 'text/html').set('cookie', cookie).expect(200);
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1];
  if (!csrf) throw new Error('no csrf field on the page');
  return { cookie, csrf };
}

describe('/admin throttling of wrong tokens', () => {
  let a: AdminApp;
  beforeEach(async () => {
    a = await startAdmin();
  });
  afterEach(async () => a.h.cleanup());

  it("behind a proxy that asks for its own password (Basic), a logged-in browser is let in and never throttled", async () => {
    const { cookie } = await logIn(a.app);
    const basic = 'Basic b3BzOnB3'; // what the browser sends on every request once the proxy's password is typed
    for (let i = 0; i < 12; i++) {
      await from(request(a.app).get('/admin'), CLIENT_A).set('accept', 'text/html').set('authorization', basic).set('cookie', cookie).expect(200);
    }
    // Without a cookie it is no token at all (401 saying so), not a wrong one: never counted.
    for (let i = 0; i < 11; i++) {
      const res = await from(request(a.app).get('/admin/status.json'), CLIENT_A).set('authorization', basic).expect(401);
      expect(res.body.error).toContain('no Bearer token (the Authorization header holds another scheme, left aside) and no session cookie');
    }
    // Nor is the token sent without its scheme (it can never get in that way, so it is no guess either).
    const bare = await from(request(a.app).get('/admin/status.json'), CLIENT_A).set('authorization', `${TOKEN}-bare`).expect(401);
    expect(bare.body.error).toContain('no Bearer token (the Authorization header holds another scheme, left aside)');
    expect(JSON.stringify(bare.body) + a.h.logs.text).not.toContain(`${TOKEN}-bare`);
    await statusJson(a.app, CLIENT_A, TOKEN).expect(200);
  });

  it('an ADMIN_TOKEN with spaces in it works as a Bearer token too', async () => {
    const spaced = 'correct horse battery staple';
    const app = a.mount(spaced);
    await statusJson(app, CLIENT_A, spaced).expect(200);
    await statusJson(app, CLIENT_A, 'correct horse').expect(401);
  });

  it('after 10 wrong tokens in a minute the 11th attempt gets 429 with Retry-After: 60, and so does the right token', async () => {
    for (let i = 0; i < 10; i++) await statusJson(a.app, CLIENT_A, `${TOKEN}-wrong-${i}`).expect(401);
    const blocked = await statusJson(a.app, CLIENT_A, `${TOKEN}-wrong-10`).expect(429);
    expect(blocked.headers['retry-after']).toBe('60');
    expect(blocked.body.error).toMatch(/^too many wrong admin tokens from this address: try again in 60 s$/);

    // Whatever token it sends next, by either way.
    const right = await statusJson(a.app, CLIENT_A, TOKEN).expect(429);
    expect(right.headers['retry-after']).toBe('60');
    expect(right.text).not.toContain('"queue"');
    const form = await loginForm(a.app, CLIENT_A, TOKEN).expect(429);
    expect(form.headers['retry-after']).toBe('60');
    expect(form.headers['set-cookie']).toBeUndefined();
    expect(form.text).toContain('Too many wrong tokens from your address: try again in 60 s.');
    // …or none at all.
    const none = await from(request(a.app).get('/admin/status.json'), CLIENT_A).expect(429);
    expect(none.headers['retry-after']).toBe('60');
    const page = await from(request(a.app).get('/admin'), CLIENT_A).set('accept', 'text/html').expect(429);
    expect(page.text).toContain('Too many wrong tokens from your address: try again in 60 s.');

    // Another client is not affected.
    await statusJson(a.app, CLIENT_B, TOKEN).expect(200);
    await loginForm(a.app, CLIENT_B, TOKEN).expect(303);

    expect(a.h.logs.text).toContain('admin client blocked: too many wrong tokens');
    expect(a.h.logs.text).not.toContain(`${TOKEN}-wrong`);
  });

  it('counts the login form and the Bearer header alike', async () => {
    for (let i = 0; i < 5; i++) await loginForm(a.app, CLIENT_A, `guess-${i}`).expect(401);
    for (let i = 0; i < 5; i++) await statusJson(a.app, CLIENT_A, `guess-${i}`).expect(401);
    await statusJson(a.app, CLIENT_A, TOKEN).expect(429);
    await loginForm(a.app, CLIENT_A, TOKEN).expect(429);
  });

  it('lets the client in again after the minute, counting from zero', async () => {
    for (let i = 0; i < 10; i++) await statusJson(a.app, CLIENT_A, `wrong-${i}`).expect(401);
    a.advance(30_000);
    const half = await statusJson(a.app, CLIENT_A, TOKEN).expect(429);
    expect(half.headers['retry-after']).toBe('30');
    a.advance(30_000);
    await statusJson(a.app, CLIENT_A, TOKEN).expect(200);
    for (let i = 0; i < 9; i++) await statusJson(a.app, CLIENT_A, `wrong-${i}`).expect(401);
    await statusJson(a.app, CLIENT_A, TOKEN).expect(200);
  });

  it('forgets failures older than a minute, and the right token starts the count again', async () => {
    for (let i = 0; i < 9; i++) await statusJson(a.app, CLIENT_A, `wrong-${i}`).expect(401);
    a.advance(61_000);
    for (let i = 0; i < 9; i++) await statusJson(a.app, CLIENT_A, `wrong-${i}`).expect(401);
    await statusJson(a.app, CLIENT_A, TOKEN).expect(200);
    for (let i = 0; i < 9; i++) await loginForm(a.app, CLIENT_A, `wrong-${i}`).expect(401);
    await loginForm(a.app, CLIENT_A, TOKEN).expect(303);
  });

  it('a session opened before the block keeps working: a signed cookie cannot be guessed', async () => {
    const { cookie } = await logIn(a.app);
    for (let i = 0; i < 10; i++) await statusJson(a.app, CLIENT_A, `wrong-${i}`).expect(401);
    await statusJson(a.app, CLIENT_A, TOKEN).expect(429);
    await from(request(a.app).get('/admin/status.json'), CLIENT_A).set('cookie', cookie).expect(200);
  });
});

describe('/admin client address: X-Forwarded-For through TRUST_PROXY_HOPS proxies', () => {
  /** The address the app logged for one wrong login, sent with this X-Forwarded-For. */
  async function loggedIp(a: AdminApp, forwardedFor: string): Promise<string> {
    const before = a.h.logs.lines.length;
    await loginForm(a.app, forwardedFor, 'wrong-token').expect(401);
    const line = a.h.logs.parsed().slice(before).find((l) => l.message === 'admin login refused: wrong token');
    return String(line?.ip);
  }

  it.each([
    ['0', '127.0.0.1'],
    ['1', '203.0.113.9'],
    ['2', '198.51.100.1'],
  ])('TRUST_PROXY_HOPS=%s: the client address is %s', async (hops, expected) => {
    const a = await startAdmin({ TRUST_PROXY_HOPS: hops });
    try {
      expect((await loggedIp(a, '192.0.2.66, 198.51.100.1, 203.0.113.9')).replace(/^::ffff:/, '')).toBe(expected);
    } finally {
      await a.h.cleanup();
    }
  });

  it('with one proxy (the default) a client cannot choose its address: what it prepends is ignored', async () => {
    const a = await startAdmin();
    try {
      expect(a.h.config.trustProxyHops).toBe(1);
      expect(await loggedIp(a, 'forged, 203.0.113.9')).toBe('203.0.113.9');
      // The proxy appends the address it saw (203.0.113.9); the client wrote the entries before it.
      for (let i = 1; i < 10; i++) await statusJson(a.app, `10.0.0.${i}, 203.0.113.9`, `wrong-${i}`).expect(401);
      await statusJson(a.app, '10.9.9.9, 203.0.113.9', TOKEN).expect(429);
      await statusJson(a.app, '203.0.113.10', TOKEN).expect(200);
    } finally {
      await a.h.cleanup();
    }
  });

  it('with nothing in front (0), X-Forwarded-For is ignored altogether', async () => {
    const a = await startAdmin({ TRUST_PROXY_HOPS: '0' });
    try {
      for (let i = 0; i < 10; i++) await statusJson(a.app, `198.51.100.${i}`, `wrong-${i}`).expect(401);
      // Every request came from this test's own address, whatever the header said.
      await statusJson(a.app, '198.51.100.200', TOKEN).expect(429);
    } finally {
      await a.h.cleanup();
    }
  });
});

describe('/admin sessions end on the server', () => {
  let a: AdminApp;
  beforeEach(async () => {
    a = await startAdmin();
  });
  afterEach(async () => a.h.cleanup());

  it('after logout the same cookie — or a copy of it — no longer works', async () => {
    const { cookie, csrf } = await logIn(a.app);
    const other = await logIn(a.app);
    await request(a.app).post('/admin/logout').set('cookie', cookie).type('form').send({ csrf }).expect(303);

    const json = await request(a.app).get('/admin/status.json').set('cookie', cookie).expect(401);
    expect(json.body.error).toMatch(/^unauthorized \(the session cookie is invalid, expired or logged out\)/);
    const page = await request(a.app).get('/admin').set('accept', 'text/html').set('cookie', cookie).expect(401);
    expect(page.text).toContain('name="token"');
    expect(page.text).toContain('log in again');
    await request(a.app).post('/admin/retry').set('cookie', cookie).type('form').send({ all: '1', csrf }).expect(401);

    // Only that session ended.
    await request(a.app).get('/admin/status.json').set('cookie', other.cookie).expect(200);
  });

  it('a session ends for every app instance sharing the store', async () => {
    const second = a.mount(TOKEN);
    const { cookie, csrf } = await logIn(a.app);
    await request(second).get('/admin/status.json').set('cookie', cookie).expect(200);
    await request(second).post('/admin/logout').set('cookie', cookie).type('form').send({ csrf }).expect(303);
    await request(a.app).get('/admin/status.json').set('cookie', cookie).expect(401);
  });

  it('changing ADMIN_TOKEN ends every session, also should the old token come back', async () => {
    const { cookie } = await logIn(a.app);
    const rotated = a.mount('a-new-admin-token-0f9e8d7c');
    await request(rotated).get('/admin/status.json').set('cookie', cookie).expect(401);
    await logIn(rotated, CLIENT_A, 'a-new-admin-token-0f9e8d7c');
    const back = a.mount(TOKEN);
    await request(back).get('/admin/status.json').set('cookie', cookie).expect(401);
  });

  it('sessions expire after 12 hours and are pruned at the next login', async () => {
    await logIn(a.app);
    await logIn(a.app);
    const rows = () => {
      const raw = new Database(path.join(a.h.dataDir, 'autotag.db'), { readonly: true });
      try {
        return (raw.prepare('SELECT count(*) AS n FROM admin_sessions').get() as { n: number }).n;
      } finally {
        raw.close();
      }
    };
    expect(rows()).toBe(2);
    a.advance(12 * 3600_000 + 1000);
    const { cookie } = await logIn(a.app);
    expect(rows()).toBe(1);
    await request(a.app).get('/admin/status.json').set('cookie', cookie).expect(200);
  });

  it('keeps the session id out of the store: only its hash is there', async () => {
    const { cookie } = await logIn(a.app);
    const id = cookie.split('=')[1]!.split('.')[1]!;
    const raw = new Database(path.join(a.h.dataDir, 'autotag.db'), { readonly: true });
    try {
      const stored = JSON.stringify(raw.prepare('SELECT * FROM admin_sessions').all());
      expect(stored).not.toContain(id);
      expect(stored).not.toContain(TOKEN);
    } finally {
      raw.close();
    }
  });
});
