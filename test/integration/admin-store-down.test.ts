import request from 'supertest';
import { createAdminRouter } from '../../src/admin';
import { createApp, type App } from '../../src/app';
import { StoreUnavailableError, type Store } from '../../src/store/store';
import { COUPON_RULES, startHarness, type Harness } from '../helpers/app-harness';

/**
 * /admin while the store does not answer (PostgreSQL cut off, SQLite unreadable): the page is
 * what an operator opens to find out why, so it says so (503) with what it can still show —
 * the setup checklist and the playground — rather than a bare `{"error":"internal error"}`.
 */

const TOKEN = 'admin-token-for-store-down-tests-1';
const PROBLEM = 'PostgreSQL is unavailable: Connection terminated unexpectedly';

interface DownHarness extends Harness {
  admin: App;
  /** From now on every store call of the admin router fails as an unreachable database does. */
  cut(): void;
}

async function startDown(): Promise<DownHarness> {
  const h = await startHarness({ ADMIN_TOKEN: TOKEN }, { 'rules.yaml': COUPON_RULES });
  let down = false;
  const store = new Proxy(h.store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (down) return Promise.reject(new StoreUnavailableError(PROBLEM, new Error('ECONNRESET')));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as Store;
  const router = createAdminRouter({ config: h.config, store, rules: () => h.ruleSet, log: h.log });
  const admin = createApp({ config: h.config, log: h.log, metrics: h.metrics, store, rules: { current: () => h.ruleSet }, admin: router });
  return Object.assign(h, { admin, cut: () => void (down = true) });
}

const asBrowser = (r: request.Test) => r.set('accept', 'text/html,application/xhtml+xml,*/*;q=0.8');
const bearer = (r: request.Test) => r.set('authorization', `Bearer ${TOKEN}`);

describe('/admin while the store does not answer', () => {
  let h: DownHarness;
  beforeEach(async () => {
    h = await startDown();
  });
  afterEach(async () => {
    await h.cleanup();
  });

  it('the page answers 503 and says why, with the setup checklist and a working playground', async () => {
    h.cut();
    const res = await asBrowser(bearer(request(h.admin).get('/admin?text=coupon&platform=line'))).expect(503);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.text).toContain('does not answer');
    expect(res.text).toContain(PROBLEM);
    expect(res.text).toContain('id="setup"');
    expect(res.text).toMatch(/Matched 1 rule[^]*<code>coupon<\/code>/);
  });

  it('status.json answers 503 JSON naming the problem, with what needs no store', async () => {
    h.cut();
    const res = await bearer(request(h.admin).get('/admin/status.json')).expect(503);
    expect(res.body.error).toContain(PROBLEM);
    expect(res.body.setup).toBeDefined();
    expect(res.body.rules).toEqual(expect.objectContaining({ count: expect.any(Number) }));
  });

  it('a session cookie cannot be checked: 503 pointing at the Bearer token, not 500', async () => {
    const login = await request(h.admin).post('/admin/login').type('form').send({ token: TOKEN }).expect(303);
    const cookie = (login.headers['set-cookie'] as unknown as string[])[0]!.split(';')[0]!;
    h.cut();
    const page = await asBrowser(request(h.admin).get('/admin').set('cookie', cookie)).expect(503);
    expect(page.text).toContain('Bearer');
    const json = await request(h.admin).get('/admin/status.json').set('cookie', cookie).expect(503);
    expect(json.body.error).toContain(PROBLEM);
    const again = await request(h.admin).post('/admin/login').type('form').send({ token: TOKEN }).expect(503);
    expect(again.text).toContain('does not answer');
  });
});
