import request from 'supertest';
import { signLine } from '../helpers/signatures';
import { COUPON_RULES, lineBody, lineText, startHarness, type Harness } from '../helpers/app-harness';
import { startDelivery, type RunningDelivery } from '../helpers/delivery-harness';
import { mantagoError, startFakeMantago, type FakeMantago } from '../helpers/fake-tag-api';

/**
 * The rate gate evaluates a 429 once the calls that started with or before it have answered
 * (rate-gate.ts). A call that failed otherwise — here a 500 — has answered too: the worker tells
 * the gate, and a later 429 does not wait for it (it waited up to a second, holding every call).
 */

const LINE_SECRET = 'line-secret-call-ends';

const postCoupon = (h: Harness, userId: string) => {
  const body = lineBody([lineText('我要優惠券', userId)]);
  return request(h.app).post('/webhooks/line').set('content-type', 'application/json').set('x-line-signature', signLine(body, LINE_SECRET)).send(body).expect(200);
};

/** The service's app and delivery against a fake MantaGo; a failed call is retried long after the test. */
async function start(): Promise<{ h: Harness; running: RunningDelivery; mantago: FakeMantago }> {
  const mantago = await startFakeMantago();
  const env = {
    LINE_CHANNEL_SECRET: LINE_SECRET, RETRY_MIN_MS: '60000', RETRY_MAX_MS: '120000',
    MANTAGO_BASE_URL: mantago.baseUrl, MANTAGO_BOT_ID: mantago.botId, MANTAGO_TOKEN: mantago.token, MANTAGO_SECRET: mantago.secret,
  };
  const h = await startHarness(env, { 'rules.yaml': COUPON_RULES });
  return { h, running: await startDelivery(h, env), mantago };
}

describe('the rate gate in the worker', () => {
  let h: Harness | undefined;
  let running: RunningDelivery | undefined;
  let mantago: FakeMantago | undefined;
  afterEach(async () => {
    await running?.stop();
    await h?.cleanup();
    await mantago?.close();
    running = undefined;
    h = undefined;
    mantago = undefined;
  });

  it('a tag call that failed otherwise (a 500) is not waited for by a later 429: paced at once, from the calls accepted before it', async () => {
    ({ h, running, mantago } = await start());

    mantago.api.enqueue({ status: 500, body: mantagoError(500, 'boom') });
    await postCoupon(h, 'Ufailed');
    await running.waitForOutcomes(1, (o) => o.outcome === 'retry' && o.status === 500);
    for (const user of ['Uok1', 'Uok2', 'Uok3', 'Uok4']) await postCoupon(h, user);
    await running.waitForOutcomes(4, (o) => o.outcome === 'applied');

    mantago.api.enqueue({ status: 429, body: mantagoError(429, 'slow down') });
    await postCoupon(h, 'Ulimited');
    await running.waitForOutcomes(1, (o) => o.outcome === 'retry' && o.status === 429);
    const limitMet = h.logs.parsed().filter((l) => String(l.message).startsWith('tag API rate limit met'));
    // Evaluated at the 429: an estimate from the four calls accepted, not "held (no estimate)".
    expect(limitMet).toEqual([expect.objectContaining({ message: 'tag API rate limit met: calls paced', estimatePerSecond: expect.any(Number) })]);
  });

  // A rate limiter answers 429 at once, the accepted calls after their write: the run is weighed,
  // and its log line written, once the calls that started with the 429 have answered.
  it('says how a run of 429s was weighed once the calls in flight with it have answered', async () => {
    ({ h, running, mantago } = await start());
    for (let i = 0; i < 5; i++) mantago.api.enqueue({ status: 200, body: { success: true }, delayMs: 300 });
    mantago.api.enqueue({ status: 429, body: mantagoError(429, 'slow down') });

    const body = lineBody(['U1', 'U2', 'U3', 'U4', 'U5', 'U6'].map((u) => lineText('我要優惠券', u)));
    await request(h.app).post('/webhooks/line').set('content-type', 'application/json').set('x-line-signature', signLine(body, LINE_SECRET)).send(body).expect(200);
    await running.waitForOutcomes(1, (o) => o.outcome === 'retry' && o.status === 429);
    const limitMet = () => h!.logs.parsed().filter((l) => String(l.message).startsWith('tag API rate limit met'));
    // The five accepted calls are still on their way: nothing is said (nor decided) yet.
    expect(limitMet()).toEqual([]);
    await running.waitForOutcomes(5, (o) => o.outcome === 'applied');
    expect(limitMet()).toEqual([expect.objectContaining({ message: 'tag API rate limit met: calls paced', account: expect.any(String), estimatePerSecond: expect.any(Number) })]);
  });

  // The account's pause is what the API asked for; the gate's own hold after a 429 (here: one with
  // nothing accepted before it) is not kept for the other instances and the next start.
  it.each([
    ['0', false],
    ['2', true],
  ])('a 429 with Retry-After: %s keeps a pause in the store: %s', async (retryAfter, kept) => {
    ({ h, running, mantago } = await start());
    mantago.api.enqueue({ status: 429, headers: { 'retry-after': retryAfter }, body: mantagoError(429, 'slow down') });
    await postCoupon(h, 'Ulimited');
    await running.waitForOutcomes(1, (o) => o.outcome === 'retry' && o.status === 429);
    // The store write is not awaited by the call: stopping waits for it.
    await running.stop();
    running = undefined;
    const pauses = await h.store.storedPauses(Date.now());
    expect(pauses.size).toBe(kept ? 1 : 0);
  });
});

