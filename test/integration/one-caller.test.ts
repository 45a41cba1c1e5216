import fs from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import type { StoreStatus } from '../../src/store/store';
import { runCli } from '../cli/cli-run';
import { startFakeMantago, type FakeMantago, type RecordedRequest } from '../helpers/fake-tag-api';
import { COUPON_RULES, tempDir } from '../helpers/app-harness';
import { describePostgres, dropSchema, newSchemaName } from '../helpers/pg-schema';
import { IDLE_SESSION_MS } from '../../src/store/postgres/liveness';
import { FAST_DELIVERY_ENV, mantagoEnv, postLineText, startService, type ServiceProcess } from '../helpers/service-process';

/*
 * README "Several instances": with PostgreSQL one instance at a time calls each provider
 * account (PROVIDER_CALLERS=one, the default) — the one holding the account's caller lock on
 * its session connection. Real processes on the real PostgreSQL, one loopback fake MantaGo.
 * Instance A calls it at its root (`http://…/openapi/…`), instance B under `/api` (the fake
 * answers both), so every recorded call says which instance made it.
 */

const SECRET = 'one-caller-line-secret';
const USERS = 60;
const TAKEN = 'this instance is the caller of a provider account now (the other instances leave its calls to it)';
const ADMIN_TOKEN = 'one-caller-admin-token-7d2e9a41';

describePostgres('one caller per provider account (PostgreSQL, real processes)', (url) => {
  let mantago: FakeMantago;
  let rulesDir: string;
  let schema: string;
  const services: ServiceProcess[] = [];

  beforeEach(async () => {
    // Slow enough that a drain lasts a few seconds at 4 calls in flight per instance.
    mantago = await startFakeMantago({ latencyMs: 150 });
    rulesDir = tempDir('autotag-one-caller-rules-');
    // `vip` is for BotBonnie, which has no account here: no role stands in the way of keeping it as a dead letter.
    fs.writeFileSync(path.join(rulesDir, 'rules.yaml'), `${COUPON_RULES}
  - id: bonnie-vip
    when: { text: { equals: vip } }
    then:
      - add_tag: bonnie-vip
        provider: botbonnie
`);
    schema = newSchemaName('autotag_caller');
  });
  afterEach(async () => {
    for (const s of services) s.kill('SIGKILL');
    await Promise.all(services.map((s) => s.exited));
    services.length = 0;
    await mantago.close();
    fs.rmSync(rulesDir, { recursive: true, force: true });
    await dropSchema(url, schema);
  });

  const start = async (which: 'A' | 'B', extra: Record<string, string> = {}) => {
    const s = await startService({
      DATABASE_URL: url,
      DATABASE_SCHEMA: schema,
      RULES_DIR: rulesDir,
      LINE_CHANNEL_SECRET: SECRET,
      ...mantagoEnv(mantago),
      MANTAGO_BASE_URL: which === 'A' ? mantago.url : mantago.baseUrl,
      ...FAST_DELIVERY_ENV,
      ...extra,
    });
    services.push(s);
    return s;
  };
  const callerOf = (r: RecordedRequest): 'A' | 'B' => (r.path.startsWith('/api/') ? 'B' : 'A');
  const callsBy = (which: 'A' | 'B') => mantago.tagRequests.filter((r) => callerOf(r) === which);
  const users = (prefix: string) => Array.from({ length: USERS }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`);
  /** Webhooks to both instances in turn: every instance accepts them, whichever calls. */
  async function postAll(a: ServiceProcess, b: ServiceProcess, ids: string[]): Promise<void> {
    const statuses = await Promise.all(ids.map((u, i) => postLineText((i % 2 === 0 ? a : b).url, SECRET, 'coupon', u)));
    expect(statuses).toEqual(ids.map(() => 200));
  }
  const allTagged = (ids: string[]) =>
    mantago.api.waitFor(() => ids.every((u) => mantago.personalTagsOf('line', u).includes('tag-coupon')), 30_000);
  /** Both started, each has tried for the role: one holds it. */
  async function pair(extra: Record<string, string> = {}): Promise<{ a: ServiceProcess; b: ServiceProcess }> {
    const [a, b] = await Promise.all([start('A', extra), start('B', extra)]);
    return { a: a!, b: b! };
  }
  const holderOf = async (a: ServiceProcess, b: ServiceProcess) => {
    await Promise.race([a.waitForLog((l) => l.message === TAKEN), b.waitForLog((l) => l.message === TAKEN)]);
    return a.logs.some((l) => l.message === TAKEN) ? { caller: a, callerName: 'A' as const, other: b, otherName: 'B' as const } : { caller: b, callerName: 'B' as const, other: a, otherName: 'A' as const };
  };

  it('only the instance holding the role calls the account; a SIGTERM hands the role over at once and the other drains the rest', async () => {
    const { a, b } = await pair();
    const { caller, callerName, other, otherName } = await holderOf(a, b);
    const ids = users('Uterm');
    await postAll(a, b, ids);
    await mantago.api.waitFor(() => mantago.tagRequests.length >= 12, 15_000);
    expect(callsBy(otherName)).toEqual([]);

    const stoppedAt = Date.now();
    caller.kill('SIGTERM');
    await other.waitForLog((l) => l.message === TAKEN, 5000);
    const takenMs = Date.now() - stoppedAt;
    expect(await caller.exited).toBe(0);
    await allTagged(ids);
    const mine = callsBy(callerName);
    const theirs = callsBy(otherName);
    expect(theirs.length).toBeGreaterThan(0);
    // Released when the stop began, not after the grace: taken within a retry or two.
    expect(takenMs).toBeLessThan(3000);
    // One caller at a time: the other's first call began after the stopping one's last.
    expect(Math.min(...theirs.map((r) => r.receivedAt))).toBeGreaterThan(Math.max(...mine.map((r) => r.receivedAt)));
    expect(mantago.api.overlaps).toEqual([]);
  }, 60_000);

  it('a SIGKILLed caller: the other takes the role once PostgreSQL ends its session, and never calls a key the dead one had in flight', async () => {
    const { a, b } = await pair();
    const { caller, callerName, other, otherName } = await holderOf(a, b);
    const ids = users('Ukill');
    await postAll(a, b, ids);
    await mantago.api.waitFor(() => callsBy(callerName).length >= 8, 15_000);

    const killedAt = Date.now();
    caller.kill('SIGKILL');
    expect(await caller.exited).toBe('SIGKILL');
    await other.waitForLog((l) => l.message === TAKEN, 10_000);
    const takenMs = Date.now() - killedAt;
    await allTagged(ids);
    expect(callsBy(otherName).length).toBeGreaterThan(0);
    expect(Math.min(...callsBy(otherName).map((r) => r.receivedAt))).toBeGreaterThanOrEqual(killedAt);
    // The session ends with the process: taken within a retry (0.5 s) of that, with room for a loaded machine.
    expect(takenMs).toBeLessThan(3000);
    expect(mantago.api.overlaps).toEqual([]);
  }, 60_000);

  it('a frozen caller (SIGSTOP): PostgreSQL ends its silent session, the other takes the role and drains; woken, it knows its session is lost', async () => {
    const { a, b } = await pair();
    const { caller, callerName, other, otherName } = await holderOf(a, b);
    const ids = users('Ustop');
    await postAll(a, b, ids);
    await mantago.api.waitFor(() => callsBy(callerName).length >= 8, 15_000);

    const frozenAt = Date.now();
    caller.kill('SIGSTOP');
    let takenMs: number;
    try {
      // Its connection stays open and its kernel answers the keepalives: only the server's idle_session_timeout ends it.
      await other.waitForLog((l) => l.message === TAKEN, 25_000);
      takenMs = Date.now() - frozenAt;
      await allTagged(ids);
    } finally {
      caller.kill('SIGCONT');
    }
    if (process.env.CALLER_PRINT) console.log(`frozen caller: role taken ${takenMs} ms after SIGSTOP`);
    // Silent since its last check (up to a second or so before the freeze): not before most of the timeout.
    expect(takenMs).toBeGreaterThanOrEqual(IDLE_SESSION_MS / 2);
    expect(takenMs).toBeLessThan(IDLE_SESSION_MS + 8000);
    expect(callsBy(otherName).length).toBeGreaterThan(0);
    await caller.waitForLog((l) => typeof l.message === 'string' && l.message.startsWith('PostgreSQL instance session lost'), 10_000);
    expect(mantago.api.overlaps).toEqual([]);
  }, 90_000);

  it('operations no account can take are still kept as dead letters: no caller role stands in their way', async () => {
    const { a, b } = await pair();
    const { otherName } = await holderOf(a, b);
    const other = otherName === 'A' ? a : b;
    expect(await postLineText(other.url, SECRET, 'vip', 'Uvip')).toBe(200);
    const kept = (l: Record<string, unknown>) => l.message === 'tag operation kept as a dead letter: no account can take it';
    await Promise.race([a.waitForLog(kept, 10_000), b.waitForLog(kept, 10_000)]);
  }, 60_000);

  it('autotag status, /admin and /metrics name the instance calling the account, and follow the role when it is handed over', async () => {
    const { a, b } = await pair({ ADMIN_TOKEN });
    const { caller, other } = await holderOf(a, b);
    const idOf = (s: ServiceProcess) => s.logs.find((l) => l.message === 'PostgreSQL instance session held')?.instance;
    const callerGauge = async (s: ServiceProcess) => /^autotag_account_caller\{account="mantago"\} (\d)$/m.exec(await (await fetch(`${s.url}/metrics`)).text())?.[1];
    const adminGet = async (s: ServiceProcess, route: string) => {
      const res = await fetch(`${s.url}/admin${route}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(res.status).toBe(200);
      return res;
    };
    const cli = async () => {
      const r = await runCli(['status', '--json'], { DATABASE_URL: url, DATABASE_SCHEMA: schema, ...mantagoEnv(mantago) });
      expect(r.code).toBe(0);
      return (JSON.parse(r.stdout) as StoreStatus).callers;
    };
    expect(typeof idOf(caller)).toBe('string');
    expect(idOf(caller)).not.toBe(idOf(other));

    expect([await callerGauge(caller), await callerGauge(other)]).toEqual(['1', '0']);
    expect(await cli()).toEqual([
      {
        account: 'mantago',
        holder: { instance: idOf(caller), since: expect.any(Number), name: `autotag ${hostname()} pid ${caller.proc.pid}`, clientAddress: '127.0.0.1', backendPid: expect.any(Number) },
        pending: 0,
      },
    ]);
    // Each instance's page names the holder; only the holder's says it is this one.
    const called = `<code>mantago</code>: called by instance ${String(idOf(caller))} (autotag ${hostname()} pid ${caller.proc.pid}, client 127.0.0.1, database pid `;
    const callerPage = await (await adminGet(caller, '')).text();
    const otherPage = await (await adminGet(other, '')).text();
    expect(callerPage).toContain(called);
    expect(otherPage).toContain(called);
    expect(callerPage).toContain('<strong>this instance</strong>');
    expect(otherPage).not.toContain('this instance');
    const json = (await (await adminGet(other, '/status.json')).json()) as { queue: StoreStatus };
    expect(json.queue.callers?.map((c) => [c.account, c.holder?.instance])).toEqual([['mantago', idOf(caller)]]);

    caller.kill('SIGTERM');
    await other.waitForLog((l) => l.message === TAKEN, 5000);
    expect(await callerGauge(other)).toBe('1');
    expect((await cli())?.map((c) => [c.account, c.holder?.instance, c.holder?.name])).toEqual([['mantago', idOf(other), `autotag ${hostname()} pid ${other.proc.pid}`]]);
  }, 60_000);

  it('PROVIDER_CALLERS=every: both instances call the account, as before', async () => {
    const { a, b } = await pair({ PROVIDER_CALLERS: 'every' });
    const ids = users('Uevery');
    await postAll(a, b, ids);
    await allTagged(ids);
    expect(callsBy('A').length).toBeGreaterThan(0);
    expect(callsBy('B').length).toBeGreaterThan(0);
    expect([...a.logs, ...b.logs].some((l) => l.message === TAKEN)).toBe(false);
    expect(a.logs.find((l) => l.message === 'chat-autotag listening')?.providerCallers).toBe('every');
    // No roles: no caller gauge.
    expect(await (await fetch(`${a.url}/metrics`)).text()).not.toMatch(/^autotag_account_caller\{/m);
    expect(mantago.api.overlaps).toEqual([]);
  }, 60_000);
});
