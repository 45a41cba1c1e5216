import fs from 'node:fs';
import { tempDir } from '../helpers/app-harness';
import { describePostgres, dropSchema, newSchemaName } from '../helpers/pg-schema';
import { postLineText } from '../helpers/service-process';
import { serviceFixture } from '../helpers/service-fixture';

/*
 * CONTRACT.md "Retries": a `Retry-After` pauses calls to that provider account until then. A
 * service that meets `429 Retry-After: 8` is stopped (a deploy: SIGTERM) and a new one is started
 * on the same store during the pause: the new one makes no call to the account until the pause
 * ends — not for the operation that met the 429, nor for the webhooks it takes meanwhile — then
 * goes on at once. Real processes, a real loopback tag API; SQLite (one file, restarted) and
 * PostgreSQL (one schema).
 */

const SECRET = 'pause-after-restart-line-secret';
// A stop and a start take well under a second alone, several seconds beside other suites on a busy machine.
const PAUSE_S = 8;
const isMapping = (r: { path: string }) => r.path.includes('TagMapping');
const honoured = (l: Record<string, unknown>) => l.message === 'calls to a provider account paused: a Retry-After met before this start has not ended';

function restartDuringPause(store: () => Record<string, string>): void {
  const services = serviceFixture({ lineSecret: SECRET, rulesDirPrefix: 'autotag-pause-restart-rules-' });
  const start = () => services.start({ ...store(), RETRY_MIN_MS: '50', RETRY_MAX_MS: '10000' });

  it('the service started during the pause calls the account only once the pause has ended', async () => {
    const first = await start();
    services.mantago.api.enqueueFor(isMapping, { status: 429, headers: { 'retry-after': String(PAUSE_S) }, body: { success: false } });
    expect(await postLineText(first.url, SECRET, 'coupon', 'U-limited')).toBe(200);
    await first.waitForLog((l) => l.message === 'tag operation failed, will retry' && l.status === 429);
    const [limited] = services.mantago.api.requests.filter(isMapping);
    expect(limited?.status).toBe(429);
    // The service read the answer after the API sent it: its pause ends no sooner than this.
    const pauseEnd = limited!.finishedAt! + PAUSE_S * 1000;

    first.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const second = await start();
    for (const user of ['U-during-1', 'U-during-2', 'U-during-3']) expect(await postLineText(second.url, SECRET, 'coupon', user)).toBe(200);
    expect(pauseEnd - Date.now()).toBeGreaterThan(1000); // started, and given webhooks, well within the pause

    await services.mantago.api.waitFor((rs) => rs.filter((r) => isMapping(r) && r.status === 200).length === 4, 15_000);
    const after = services.mantago.api.requests.filter((r) => isMapping(r) && r !== limited);
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
  // First: its processes are killed before their store is removed.
  restartDuringPause(() => ({ DATA_DIR: dataDir }));
  beforeEach(() => {
    dataDir = tempDir('autotag-pause-restart-data-');
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));
});

describePostgres('a Retry-After pause holds an instance started during it (PostgreSQL, real processes)', (url) => {
  let schema: string;
  restartDuringPause(() => ({ DATABASE_URL: url, DATABASE_SCHEMA: schema }));
  beforeEach(() => {
    schema = newSchemaName('autotag_pause_restart');
  });
  afterEach(async () => dropSchema(url, schema));
});
