import request from 'supertest';
import type { Store } from '../../src/store/store';
import { signLine } from '../helpers/signatures';
import { COUPON_RULES, lineBody, lineText, startHarness, type Harness } from '../helpers/app-harness';
import { startDelivery, type RunningDelivery } from '../helpers/delivery-harness';
import { startFakeMantago, type FakeMantago } from '../helpers/fake-tag-api';
import { ADAPTIVE_CONCURRENCY, type OperationWorker } from '../../src/delivery/operation-worker';

/*
 * A call whose call deadline (TAG_API_TIMEOUT_MS after the claim) passes while it waits for its
 * slot — a Retry-After pause that began after it was claimed — is not made, and is not a failed
 * call for the adaptive concurrency limit (which halves on one): nothing was learned of the API.
 * The real worker over a real SQLite store and a fake MantaGo; the pause is begun by the test the
 * moment the claim returns, where a 429 of another call would begin it. The call gives up its
 * slot at the deadline, not at the pause's end (a `Retry-After` may pause for minutes).
 */
const LINE_SECRET = 'line-secret-deadline-before-call';

describe('a call deadline that passes before the call', () => {
  let h: Harness | undefined;
  let running: RunningDelivery | undefined;
  let mantago: FakeMantago | undefined;
  afterEach(async () => {
    await running?.stop();
    await h?.cleanup();
    await mantago?.close();
    running = h = mantago = undefined;
  });

  it('makes no call, retries the operation, and leaves the concurrency limit as it was', async () => {
    mantago = await startFakeMantago();
    const env = {
      LINE_CHANNEL_SECRET: LINE_SECRET, MANTAGO_BASE_URL: mantago.baseUrl, MANTAGO_BOT_ID: mantago.botId, MANTAGO_TOKEN: mantago.token, MANTAGO_SECRET: mantago.secret,
      LEASE_MS: '1000', TAG_API_TIMEOUT_MS: '200', RETRY_MIN_MS: '20', RETRY_MAX_MS: '2000',
    };
    h = await startHarness(env, { 'rules.yaml': COUPON_RULES });
    const body = lineBody([lineText('我要優惠券', 'Udeadline')]);
    await request(h.app).post('/webhooks/line').set('content-type', 'application/json').set('x-line-signature', signLine(body, LINE_SECRET)).send(body).expect(200);

    let worker: OperationWorker | undefined;
    let pausedAt: number | undefined;
    const real = h.store;
    // The first claim that returns the operation begins a 2 s pause (RETRY_MAX_MS), as a 429 with Retry-After: 2 would.
    const store = new Proxy(real, {
      get(target, key) {
        if (key === 'claimOperations') {
          return async (...args: Parameters<Store['claimOperations']>) => {
            const ops = await target.claimOperations(...args);
            if (ops.length > 0 && pausedAt === undefined && worker) {
              pausedAt = Date.now();
              worker.gate.pause(2000);
            }
            return ops;
          };
        }
        const v = Reflect.get(target, key) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    running = await startDelivery({ ...h, store }, env, { beforeStart: (d) => (worker = d.operations.get('mantago')) });
    let limitAtRetry: number | undefined;
    let retriedAt: number | undefined;
    running.delivery.events.on('operation', (o) => {
      if (o.outcome === 'retry' && limitAtRetry === undefined) {
        limitAtRetry = worker?.concurrency.limit;
        retriedAt = Date.now();
      }
    });
    const [retry] = await running.waitForOutcomes(1, (o) => o.outcome === 'retry');
    expect(retry?.reason).toBe('tag call not started: the call deadline of its lease passed (200 ms after the claim) while it waited for its turn');
    expect(limitAtRetry).toBe(ADAPTIVE_CONCURRENCY.initial);
    // At the deadline (200 ms after the claim), not when the pause ends 2 s after it.
    expect(retriedAt! - pausedAt!).toBeLessThan(1000);
    await running.waitForOutcomes(1, (o) => o.outcome === 'applied');
    expect(mantago.personalTagsOf('line', 'Udeadline')).toEqual(['tag-coupon']);
    // One call in all, after the pause.
    expect(mantago.api.requests).toHaveLength(1);
    expect(mantago.api.requests[0]!.receivedAt - pausedAt!).toBeGreaterThanOrEqual(1950);
  });
});
