import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import request from 'supertest';
import { COUPON_RULES, lineBody, lineText, startHarness, tempDir } from '../helpers/app-harness';
import { startFakeMantago, type FakeMantago, type RecordedRequest } from '../helpers/fake-tag-api';
import { mantagoEnv, startService, type ServiceProcess } from '../helpers/service-process';
import { signLine } from '../helpers/signatures';
import { ESTIMATE_KEPT } from '../../src/delivery/account-rate-gate';

/*
 * README "Rate limits": a service restarted in the middle of a drain (a deploy: SIGTERM, then a
 * new process on the same SQLite file) starts its account's gate from the rate estimate the one
 * before kept in the store, so it paces from its first call instead of learning the limit again
 * from two runs of 429s. Real processes, a real SQLite file, a loopback fake MantaGo whose
 * token bucket (100/s, bursts of 10) answers 429 with `Retry-After: 1` — not bench:drain's
 * 200/s: beside four busy loops on the two cores a fresh service once drained below 200/s and
 * met no 429 at all, which says nothing. The same drain with the stored estimate removed before
 * the restart is the fresh start it is compared with. Only counts the fake saw are asserted:
 * runs of 429s (429s more than 500 ms apart start a new run) among the restarted service's
 * calls, until it has had ACCEPTED_AFTER of them accepted.
 */

const SECRET = 'rate-estimate-restart-line-secret';
/**
 * Far more than a drain to the first fit, the 5 s that bear it out and ACCEPTED_AFTER more: at
 * 200/s on a loaded machine (the whole suite beside it) the first fit came after 4,800 calls, and
 * a queue of 6,000 then ran out before the restarted service had ACCEPTED_AFTER of them. A queue
 * left over is never drained.
 */
const USERS = 10_000;
const ACCEPTED_AFTER = 1500;
const STARTED_PACED = 'calls to a provider account start paced at the rate estimate kept in the store';

function runsOf(requests: readonly RecordedRequest[]): number {
  let runs = 0;
  let last = -Infinity;
  for (const r of requests) {
    if (!r.rateLimited) continue;
    if (r.receivedAt - last > 500) runs++;
    last = r.receivedAt;
  }
  return runs;
}

describe('a service restarted mid-drain paces from the rate estimate kept in the store (SQLite, real processes)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.reverse()) await c();
    cleanups.length = 0;
  });

  /**
   * Queues the operations in the SQLite file before the first service starts (the app over that
   * file, as the service's own webhook path stores them): a drain whose first calls went out while
   * webhooks were still being stored began slower than the API's limit, and its runs of 429s did
   * not tell the limit apart from the bucket (README "Rate limits": no fit, a run every 5–6 s).
   */
  async function queue(file: string, env: Record<string, string>, users: string[]): Promise<void> {
    const h = await startHarness({ LINE_CHANNEL_SECRET: SECRET, ...env }, { 'rules.yaml': COUPON_RULES }, { engine: 'sqlite', file });
    try {
      for (let i = 0; i < users.length; i += 500) {
        const body = lineBody(users.slice(i, i + 500).map((u) => lineText('coupon', u)));
        await request(h.app).post('/webhooks/line').set('content-type', 'application/json').set('x-line-signature', signLine(body, SECRET)).send(body).expect(200);
      }
    } finally {
      await h.cleanup();
    }
  }

  /** Drains until the first service kept an estimate the API bore out, restarts it, and counts what the second one met. */
  async function restartMidDrain(keepEstimate: boolean): Promise<{ runs: number; refused: number; second: ServiceProcess }> {
    const mantago: FakeMantago = await startFakeMantago({ latencyMs: 20, rateLimit: { perSecond: 100, burst: 10 } });
    const dataDir = tempDir('autotag-estimate-restart-data-');
    const rulesDir = tempDir('autotag-estimate-restart-rules-');
    fs.writeFileSync(path.join(rulesDir, 'rules.yaml'), COUPON_RULES);
    const services: ServiceProcess[] = [];
    cleanups.push(async () => {
      for (const s of services) s.kill('SIGKILL');
      await Promise.all(services.map((s) => s.exited));
      await mantago.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
      fs.rmSync(rulesDir, { recursive: true, force: true });
    });
    const start = async () => {
      const s = await startService({ DATA_DIR: dataDir, RULES_DIR: rulesDir, LINE_CHANNEL_SECRET: SECRET, ...mantagoEnv(mantago), RETRY_MIN_MS: '50', RETRY_MAX_MS: '10000' });
      services.push(s);
      return s;
    };

    await queue(path.join(dataDir, 'autotag.db'), mantagoEnv(mantago), Array.from({ length: USERS }, (_, i) => `Urestart${String(i).padStart(4, '0')}`));
    const first = await start();
    // Runs of 429s, a fit, and 5 s of calls at it: the estimate kept is one the API bore out.
    await first.waitForLog((l) => l.message === ESTIMATE_KEPT, 90_000).catch((err: unknown) => {
      console.log(first.logs.filter((l) => String(l.message).startsWith('tag API rate limit')));
      throw err;
    });
    first.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    if (!keepEstimate) {
      const db = new Database(path.join(dataDir, 'autotag.db'));
      db.prepare('DELETE FROM account_rate_estimates').run();
      db.close();
    }
    const before = mantago.tagRequests.length;
    const second = await start();
    await mantago.api.waitFor(() => mantago.tagRequests.slice(before).filter((r) => r.status === 200).length >= ACCEPTED_AFTER, 60_000);
    const after = mantago.tagRequests.slice(before);
    let accepted = 0;
    const counted = after.filter((r) => accepted < ACCEPTED_AFTER && (r.status !== 200 || ++accepted > 0));
    return { runs: runsOf(counted), refused: counted.filter((r) => r.rateLimited).length, second };
  }

  it('meets fewer runs of 429s after the restart than a fresh start does', async () => {
    const resumed = await restartMidDrain(true);
    const fresh = await restartMidDrain(false);
    if (process.env.ESTIMATE_RESTART_PRINT) {
      console.log({ resumed: { runs: resumed.runs, refused: resumed.refused }, fresh: { runs: fresh.runs, refused: fresh.refused } });
      for (const { second } of [resumed, fresh]) console.log(JSON.stringify(second.logs.filter((l) => String(l.message).startsWith('tag API rate') || l.message === STARTED_PACED)));
    }
    expect(resumed.runs).toBeLessThanOrEqual(1);
    expect(fresh.runs).toBeGreaterThan(resumed.runs);
    expect(fresh.refused).toBeGreaterThan(resumed.refused);
    expect(resumed.second.logs).toContainEqual(expect.objectContaining({ message: STARTED_PACED, account: 'mantago', when: 'start' }));
    expect(fresh.second.logs.filter((l) => l.message === STARTED_PACED)).toEqual([]);
  }, 360_000);
});
