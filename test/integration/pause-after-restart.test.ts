import fs from 'node:fs';
import path from 'node:path';
import { startFakeMantago, type FakeMantago } from '../helpers/fake-tag-api';
import { COUPON_RULES, tempDir } from '../helpers/app-harness';
import { describePostgres, dropSchema, newSchemaName } from '../helpers/pg-schema';
import { mantagoEnv, postLineText, startService, type ServiceProcess } from '../helpers/service-process';

/*
 * CONTRACT.md "Retries": a `Retry-After` pauses calls to that provider account until then. A
 * service that meets `429 Retry-After: 4` is stopped (a deploy: SIGTERM) and a new one is started
 * on the same store during the pause: the new one makes no call to the account until the pause
 * ends — not for the operation that met the 429, nor for the webhooks it takes meanwhile — then
 * goes on at once. Real processes, a real loopback tag API; SQLite (one file, restarted) and
 * PostgreSQL (one schema).
 */

const SECRET = 'pause-after-restart-line-secret';
const PAUSE_S = 4;
const isMapping = (r: { path: string }) => r.path.includes('TagMapping');
const honoured = (l: Record<string, unknown>) => l.message === 'calls to a provider account paused: a Retry-After met before this start has not ended';

function restartDuringPause(store: () => Record<string, string>): void {
  let mantago: FakeMantago;
  let rulesDir: string;
  const services: ServiceProcess[] = [];

  beforeEach(async () => {
    mantago = await startFakeMantago();
    rulesDir = tempDir('autotag-pause-restart-rules-');
    fs.writeFileSync(path.join(rulesDir, 'rules.yaml'), COUPON_RULES);
  });
  afterEach(async () => {
    for (const s of services) s.kill('SIGKILL');
    await Promise.all(services.map((s) => s.exited));
    services.length = 0;
    await mantago.close();
    fs.rmSync(rulesDir, { recursive: true, force: true });
  });

  const start = async () => {
    const s = await startService({ ...store(), RULES_DIR: rulesDir, LINE_CHANNEL_SECRET: SECRET, ...mantagoEnv(mantago), RETRY_MIN_MS: '50', RETRY_MAX_MS: '10000' });
    services.push(s);
    return s;
  };

  it('the service started during the pause calls the account only once the pause has ended', async () => {
    const first = await start();
    mantago.api.enqueueFor(isMapping, { status: 429, headers: { 'retry-after': String(PAUSE_S) }, body: { success: false } });
    expect(await postLineText(first.url, SECRET, 'coupon', 'U-limited')).toBe(200);
    await first.waitForLog((l) => l.message === 'tag operation failed, will retry' && l.status === 429);
    const [limited] = mantago.api.requests.filter(isMapping);
    expect(limited?.status).toBe(429);
    // The service read the answer after the API sent it: its pause ends no sooner than this.
    const pauseEnd = limited!.finishedAt! + PAUSE_S * 1000;

    first.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const second = await start();
    for (const user of ['U-during-1', 'U-during-2', 'U-during-3']) expect(await postLineText(second.url, SECRET, 'coupon', user)).toBe(200);
    expect(pauseEnd - Date.now()).toBeGreaterThan(1000); // started, and given webhooks, well within the pause

    await mantago.api.waitFor((rs) => rs.filter((r) => isMapping(r) && r.status === 200).length === 4, 15_000);
    const after = mantago.api.requests.filter((r) => isMapping(r) && r !== limited);
    const firstCall = Math.min(...after.map((r) => r.receivedAt));
    // No call before the pause ended (a few ms for timers), and the first right after it.
    expect(firstCall - pauseEnd).toBeGreaterThanOrEqual(-20);
    expect(firstCall - pauseEnd).toBeLessThan(1000);
    expect(after.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(second.logs.filter(honoured)).toEqual([expect.objectContaining({ account: 'mantago', pauseMs: expect.any(Number) })]);
  }, 40_000);
}

describe('a Retry-After pause outlives a restart (SQLite, real processes)', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = tempDir('autotag-pause-restart-data-');
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  restartDuringPause(() => ({ DATA_DIR: dataDir }));
});

describePostgres('a Retry-After pause holds an instance started during it (PostgreSQL, real processes)', (url) => {
  let schema: string;
  beforeEach(() => {
    schema = newSchemaName('autotag_pause_restart');
  });
  afterEach(async () => dropSchema(url, schema));
  restartDuringPause(() => ({ DATABASE_URL: url, DATABASE_SCHEMA: schema }));
});
