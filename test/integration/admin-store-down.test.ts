import pg from 'pg';
import request from 'supertest';
import { createAdminRouter } from '../../src/admin';
import { ADMIN_STORE_WAIT_MS } from '../../src/admin/access';
import { createApp, type App } from '../../src/app';
import { COUPON_RULES, startHarness, type Harness } from '../helpers/app-harness';
import { describePostgres } from '../helpers/pg-schema';
import { startTcpProxy, type TcpProxy } from '../store/tcp-proxy';

/**
 * /admin while the store does not answer (here the real PostgreSQL, reached through a TCP proxy
 * that the test cuts): the page is what an operator opens to find out why, so it says so (503)
 * with what it can still show — the setup checklist and the playground — rather than a bare
 * `{"error":"internal error"}`.
 */

const TOKEN = 'admin-token-for-store-down-tests-1';
/** How the PostgreSQL store names an unreachable database (StoreUnavailableError). */
const PROBLEM = /PostgreSQL[^<"]*(unavailable|unreachable|terminated|ECONNRESET|ECONNREFUSED)/i;

const asBrowser = (r: request.Test) => r.set('accept', 'text/html,application/xhtml+xml,*/*;q=0.8');
const bearer = (r: request.Test) => r.set('authorization', `Bearer ${TOKEN}`);

describePostgres('/admin while the store does not answer', (url) => {
  let proxy: TcpProxy;
  let h: Harness;
  let admin: App;
  beforeEach(async () => {
    const u = new URL(url);
    proxy = await startTcpProxy({ host: u.hostname, port: Number(u.port || 5432) });
    const viaProxy = new URL(url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    h = await startHarness({ ADMIN_TOKEN: TOKEN }, { 'rules.yaml': COUPON_RULES }, { engine: 'postgres', url: viaProxy.toString() });
    const router = createAdminRouter({ config: h.config, store: h.store, rules: () => h.ruleSet, log: h.log });
    admin = createApp({ config: h.config, log: h.log, metrics: h.metrics, store: h.store, rules: { current: () => h.ruleSet }, admin: router });
  });
  afterEach(async () => {
    await proxy.close(); // ends a blackhole too: the store's connections then close
    await h.cleanup().catch(() => undefined);
  });

  it('the page answers 503 and says why, with the setup checklist and a working playground', async () => {
    proxy.cut();
    const res = await asBrowser(bearer(request(admin).get('/admin?text=coupon&platform=line'))).expect(503);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.text).toContain('does not answer');
    expect(res.text).toMatch(PROBLEM);
    expect(res.text).toContain('id="setup"');
    expect(res.text).toMatch(/Matched 1 rule[^]*<code>coupon<\/code>/);
  });

  it('status.json answers 503 JSON naming the problem, with what needs no store', async () => {
    proxy.cut();
    const res = await bearer(request(admin).get('/admin/status.json')).expect(503);
    expect(res.body.error).toMatch(PROBLEM);
    expect(res.body.setup).toBeDefined();
    expect(res.body.rules).toEqual(expect.objectContaining({ count: expect.any(Number) }));
  });

  it('history.json and a retry answer 503 JSON naming the problem, not 500', async () => {
    proxy.cut();
    const history = await bearer(request(admin).get('/admin/history.json?user=U1')).expect(503);
    expect(history.body.error).toContain('does not answer');
    expect(history.body.error).toMatch(PROBLEM);
    const retry = await bearer(request(admin).post('/admin/retry').type('form').send({ all: '1' })).expect(503);
    expect(retry.body.error).toContain('does not answer');
    expect(retry.body.error).toMatch(PROBLEM);
  });

  it('a session cookie cannot be checked: 503 pointing at the Bearer token, not 500', async () => {
    const login = await request(admin).post('/admin/login').type('form').send({ token: TOKEN }).expect(303);
    const cookie = (login.headers['set-cookie'] as unknown as string[])[0]!.split(';')[0]!;
    proxy.cut();
    const page = await asBrowser(request(admin).get('/admin').set('cookie', cookie)).expect(503);
    expect(page.text).toContain('Bearer');
    const json = await request(admin).get('/admin/status.json').set('cookie', cookie).expect(503);
    expect(json.body.error).toMatch(PROBLEM);
    const again = await request(admin).post('/admin/login').type('form').send({ token: TOKEN }).expect(503);
    expect(again.text).toContain('does not answer');
  });

  it('logging out when the store cannot end the session: 503 saying it may still be open, and the cookie kept, not 500', async () => {
    const login = await request(admin).post('/admin/login').type('form').send({ token: TOKEN }).expect(303);
    const cookie = (login.headers['set-cookie'] as unknown as string[])[0]!.split(';')[0]!;
    const page = await asBrowser(request(admin).get('/admin').set('cookie', cookie)).expect(200);
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1];
    expect(csrf).toBeDefined();
    // The session can still be read (the check before the logout passes), but not deleted: the
    // store answers the check and then, for the logout itself, does not answer in time.
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query(`LOCK TABLE "${h.schema}".admin_sessions IN EXCLUSIVE MODE`);
      const res = await request(admin).post('/admin/logout').set('cookie', cookie).type('form').send({ csrf }).expect(503);
      expect(res.text).toContain('does not answer');
      expect(res.text).toContain('may still be open');
      expect(res.headers['set-cookie']).toBeUndefined();
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
    }
  }, 20_000);

  it('a database gone silent (no answer, no closed connection): 503 within ADMIN_STORE_WAIT_MS, not after the query timeout', async () => {
    const login = await request(admin).post('/admin/login').type('form').send({ token: TOKEN }).expect(303);
    const cookie = (login.headers['set-cookie'] as unknown as string[])[0]!.split(';')[0]!;
    proxy.blackhole();
    const silent = `did not answer within ${ADMIN_STORE_WAIT_MS} ms`;
    for (const ask of [
      () => asBrowser(bearer(request(admin).get('/admin'))),
      () => bearer(request(admin).get('/admin/status.json')),
      () => asBrowser(request(admin).get('/admin').set('cookie', cookie)),
      () => bearer(request(admin).get('/admin/history.json?user=U1')),
      () => request(admin).post('/admin/login').type('form').send({ token: TOKEN }),
    ]) {
      const asked = Date.now();
      const res = await ask().expect(503);
      // The harness's statement timeout is 10 s: without the wait the answer took that long.
      expect(Date.now() - asked).toBeLessThan(2 * ADMIN_STORE_WAIT_MS + 2000);
      expect(res.text).toContain(silent);
    }
  }, 40_000);
});
