import request from 'supertest';
import { createAdminRouter } from '../../src/admin';
import { createApp } from '../../src/app';
import { runDeadLettersList, runDeadLettersRetry } from '../../src/cli/dead-letters';
import { runHistory } from '../../src/cli/history';
import { runStatus } from '../../src/cli/status';
import { createMetrics } from '../../src/metrics';
import { startFakeMantago, type FakeMantago } from '../helpers/fake-tag-api';
import { bufferIo as io, runCli } from '../cli/cli-run';
import { signLine } from '../helpers/signatures';
import { COUPON_RULES, lineBody, lineText, startHarness, type Harness } from '../helpers/app-harness';
import { startDelivery, type RunningDelivery } from '../helpers/delivery-harness';

const SECRET = 'history-line-secret';
const ADMIN_TOKEN = 'history-admin-token-5c1e9a';



describe('per-user history and the operator commands', () => {
  let h: Harness;
  let mantago: FakeMantago;
  let running: RunningDelivery | undefined;
  let env: Record<string, string>;

  const post = (events: Record<string, unknown>[]) => {
    const body = lineBody(events);
    return request(h.app).post('/webhooks/line').set('content-type', 'application/json').set('x-line-signature', signLine(body, SECRET)).send(body).expect(200);
  };

  async function setup(extra: Record<string, string> = {}, rules = COUPON_RULES) {
    mantago = await startFakeMantago();
    h = await startHarness({ LINE_CHANNEL_SECRET: SECRET, ...extra }, { 'rules.yaml': rules });
    env = { DATA_DIR: h.dataDir, RULES_DIR: h.config.rulesDir, MANTAGO_BASE_URL: mantago.baseUrl, MANTAGO_BOT_ID: mantago.botId, MANTAGO_TOKEN: mantago.token, MANTAGO_SECRET: mantago.secret, RETRY_MIN_MS: '20', RETRY_MAX_MS: '50', ...extra };
  }

  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await h.cleanup();
    await mantago.close();
  });

  it('records each event with its matched rules and the tag calls with how each ended, without text by default', async () => {
    await setup();
    mantago.api.enqueue({ status: 503, body: { success: false, errResponse: { message: 'busy', code: 503 } } });
    running = await startDelivery(h, env);
    await post([lineText('secret coupon words', 'Uhist')]);
    await running.waitForOutcomes(1, (o) => o.outcome === 'applied');
    const history = await h.store.userHistory('Uhist');
    expect(history.events).toHaveLength(1);
    expect(history.events[0]).toMatchObject({ platform: 'line', userId: 'Uhist', kind: 'message', matched: ['coupon'] });
    expect(history.events[0]?.text).toBeUndefined();
    expect(history.events[0]?.operations).toEqual([expect.objectContaining({ action: 'add', tagId: 'tag-coupon' })]);
    expect(history.calls.map((c) => [c.outcome, c.status])).toEqual([
      ['retry', 503],
      ['applied', 200],
    ]);

    const o = io();
    expect(await runHistory({ user: 'Uhist' }, env, o)).toBe(0);
    expect(o.out).toMatch(/line message \(event .*\): matched coupon → add mantago\/personal tag tag-coupon/);
    expect(o.out).toMatch(/call add mantago\/personal tag tag-coupon: retry \(503\)/);
    expect(o.out).toMatch(/call add mantago\/personal tag tag-coupon: applied \(200\)/);
    expect(o.out).not.toContain('secret coupon words');

    // the built CLI prints exactly one JSON object
    const r = await runCli(['history', '--user', 'Uhist', '--json'], env);
    expect(r.code).toBe(0);
    const parsed = JSON.parse(r.stdout) as { userId: string; events: unknown[]; calls: unknown[] };
    expect(parsed.userId).toBe('Uhist');
    expect(parsed.events).toHaveLength(1);
    expect(parsed.calls).toHaveLength(2);
  });

  it("shows an event's own time when it is a second or more from its receipt, so a late redelivery explains itself", async () => {
    await setup({ ADMIN_TOKEN });
    const dated = Date.now() - 3_600_000;
    await post([lineText('coupon', 'Ulate', { timestamp: dated, deliveryContext: { isRedelivery: true } })]);
    await post([lineText('coupon', 'Ulate', { timestamp: Date.now() })]);

    const history = await h.store.userHistory('Ulate');
    expect(history.events.map((e) => e.eventAt)).toEqual([dated, expect.any(Number)]);
    const o = io();
    expect(await runHistory({ user: 'Ulate' }, env, o)).toBe(0);
    const eventLines = o.out.split('\n').filter((l) => l.includes('line message'));
    expect(eventLines).toHaveLength(2);
    expect(eventLines[0]).toContain(`(event ${history.events[0]?.eventId}, dated ${new Date(dated).toISOString()}, channel line)`);
    // One received as it happened shows its receipt alone.
    expect(eventLines[1]).not.toContain('dated');

    const router = createAdminRouter({ config: h.config, store: h.store, rules: () => h.ruleSet, log: h.log });
    const admin = createApp({ config: h.config, log: h.log, metrics: h.metrics, store: h.store, rules: { current: () => h.ruleSet }, admin: router });
    const page = await request(admin).get('/admin').query({ user: 'Ulate' }).set('authorization', `Bearer ${ADMIN_TOKEN}`).expect(200);
    const datedHtml = `, dated <time datetime="${new Date(dated).toISOString()}">`;
    // In the user's timeline and in the recent events.
    expect(page.text.split(datedHtml)).toHaveLength(3);
  });

  it('status, /admin and /metrics count the tags whose lifetime is running and say when the first ends', async () => {
    await setup({ ADMIN_TOKEN }, `${COUPON_RULES}
  - id: trial
    when: { text: { equals: trial } }
    then:
      - add_tag: tag-trial
        for: 1d
`);
    const at = Date.now() - 5000;
    await post([lineText('trial', 'Utrial', { timestamp: at })]);
    const ends = new Date(at + 86_400_000).toISOString();

    const json = io();
    expect(await runStatus({ json: true }, env, json)).toBe(0);
    expect((JSON.parse(json.out) as { lifetimes: unknown }).lifetimes).toEqual({ running: 1, nextEndAt: at + 86_400_000 });
    const text = io();
    await runStatus({}, env, text);
    expect(text.out).toContain(`1 tag has a lifetime running (for:); the first ends at ${ends}, when its removal is queued`);

    const router = createAdminRouter({ config: h.config, store: h.store, rules: () => h.ruleSet, log: h.log });
    const admin = createApp({ config: h.config, log: h.log, metrics: h.metrics, store: h.store, rules: { current: () => h.ruleSet }, admin: router });
    const page = await request(admin).get('/admin').set('authorization', `Bearer ${ADMIN_TOKEN}`).expect(200);
    expect(page.text).toContain(`<p id="lifetimes-running">1 tag has a lifetime running (for:); the first ends at ${ends}`);

    const scraped = await createMetrics({ status: () => h.store.status(Date.now()), collectDefault: false }).registry.metrics();
    expect(scraped).toMatch(/^autotag_lifetimes_running 1$/m);
  });

  it('status, /admin and /metrics name the accounts a Retry-After paused, until when, and forget them once it ended', async () => {
    await setup({ ADMIN_TOKEN });
    const now = Date.now();
    await h.store.sharePause('mantago', now + 60_000, now);
    await h.store.sharePause('brand-b', now + 1, now);
    await new Promise((r) => setTimeout(r, 5));
    const until = new Date(now + 60_000).toISOString();

    const json = io();
    expect(await runStatus({ json: true }, env, json)).toBe(0);
    expect((JSON.parse(json.out) as { pauses: unknown }).pauses).toEqual([{ account: 'mantago', until: now + 60_000 }]);
    const text = io();
    await runStatus({}, env, text);
    expect(text.out).toContain(`calls to mantago paused until ${until} (its tag API answered with Retry-After)`);
    expect(text.out).not.toContain('brand-b');

    const router = createAdminRouter({ config: h.config, store: h.store, rules: () => h.ruleSet, log: h.log });
    const admin = createApp({ config: h.config, log: h.log, metrics: h.metrics, store: h.store, rules: { current: () => h.ruleSet }, admin: router });
    const page = await request(admin).get('/admin').set('authorization', `Bearer ${ADMIN_TOKEN}`).expect(200);
    expect(page.text).toContain(`<ul id="paused-accounts"><li>calls to mantago paused until ${until} (its tag API answered with Retry-After).</li></ul>`);

    const scraped = await createMetrics({ status: () => h.store.status(Date.now()), collectDefault: false }).registry.metrics();
    expect(Number(/^autotag_account_paused_seconds\{account="mantago"\} (\S+)$/m.exec(scraped)?.[1])).toBeGreaterThan(50);
    expect(scraped).not.toContain('account="brand-b"');
  });

  it('keeps message text only with HISTORY_STORE_TEXT=1', async () => {
    await setup({ HISTORY_STORE_TEXT: '1' });
    await post([lineText('我要優惠券', 'Utext')]);
    const history = await h.store.userHistory('Utext');
    expect(history.events[0]?.text).toBe('我要優惠券');
  });

  it('prunes history older than HISTORY_RETENTION_DAYS', async () => {
    await setup();
    await post([lineText('coupon', 'Uold')]);
    const now = Date.now();
    const removed = await h.store.prune({ historyBefore: now + 1000, seenBefore: now - 8 * 86_400_000 });
    expect(removed.history).toBeGreaterThanOrEqual(1);
    expect((await h.store.userHistory('Uold')).events).toEqual([]);
  });

  it('status, dead-letters list and dead-letters retry', async () => {
    await setup();
    mantago.api.enqueue({ status: 400, body: { success: false, errResponse: { message: 'unknown tag', code: 1001 } } });
    running = await startDelivery(h, env);
    await post([lineText('coupon', 'Uops')]);
    await running.waitForOutcomes(1, (o) => o.outcome === 'dead');

    const s = io();
    expect(await runStatus({ json: true }, env, s)).toBe(0);
    const status = JSON.parse(s.out) as { operations: { dead: number; pending: number }; forwards: { dead: number } };
    expect(status.operations).toMatchObject({ dead: 1, pending: 0 });
    expect(status.forwards.dead).toBe(0);
    const table = io();
    await runStatus({}, env, table);
    expect(table.out).toMatch(/tag operations\s+0\s+0\s+0\s+1/);

    const l = io();
    expect(await runDeadLettersList({ json: true }, env, l)).toBe(0);
    const letters = JSON.parse(l.out) as { id: string; reason: string; status: number }[];
    expect(letters).toHaveLength(1);
    expect(letters[0]?.reason).toMatch(/unknown tag/);
    const human = io();
    await runDeadLettersList({}, env, human);
    expect(human.out).toContain(letters[0]!.id);
    expect(human.out).toMatch(/add mantago\/personal tag tag-coupon for line user Uops/);

    const bad = io();
    expect(await runDeadLettersRetry([], {}, env, bad)).toBe(1);
    expect(bad.err).toMatch(/give --all or one or more ids/);
    const unknown = io();
    expect(await runDeadLettersRetry(['op-999999'], {}, env, unknown)).toBe(1);
    expect(unknown.err).toMatch(/no dead letter with id op-999999/);
    // Nothing on stdout: "queued 0 dead letters again" would read as a success.
    expect(unknown.out).toBe('');

    const retried = io();
    expect(await runDeadLettersRetry([letters[0]!.id], {}, env, retried)).toBe(0);
    expect(retried.out).toBe('queued 1 dead letter again\n');
    running.delivery.wake();
    await running.waitForOutcomes(1, (o) => o.outcome === 'applied');
    expect(mantago.personalTagsOf('line', 'Uops')).toEqual(['tag-coupon']);

    // the built CLI answers the same
    const r = await runCli(['status', '--json'], env);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ operations: { dead: 0 } });
  });
});
