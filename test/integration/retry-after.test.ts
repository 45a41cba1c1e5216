import request from 'supertest';
import { signLine } from '../helpers/signatures';
import { COUPON_RULES, lineBody, lineText, startHarness, type Harness } from '../helpers/app-harness';
import { startDelivery, type RunningDelivery } from '../helpers/delivery-harness';
import { mantagoError, startFakeMantago, type FakeMantago } from '../helpers/fake-tag-api';
import { HugeAnswerServer } from '../helpers/huge-answer-server';

/**
 * Issue 17 part 3: a `Retry-After` of 3,000,000,000 seconds (or a date in the year 9999)
 * once paused a provider for good while /readyz said ready. Every pause is capped at
 * RETRY_MAX_MS (CONTRACT.md "Retries"); here that is 300 ms, and the tests only wait
 * generously (seconds) for what must follow it.
 */

const LINE_SECRET = 'line-secret-retry-after';
const RETRY_MAX_MS = 300;
const env = { LINE_CHANNEL_SECRET: LINE_SECRET, RETRY_MIN_MS: '20', RETRY_MAX_MS: String(RETRY_MAX_MS) };

const postCoupon = (h: Harness, userId: string) => {
  const body = lineBody([lineText('我要優惠券', userId)]);
  return request(h.app).post('/webhooks/line').set('content-type', 'application/json').set('x-line-signature', signLine(body, LINE_SECRET)).send(body).expect(200);
};

describe('a huge Retry-After pauses at most RETRY_MAX_MS', () => {
  let h: Harness | undefined;
  let running: RunningDelivery | undefined;
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await h?.cleanup();
    h = undefined;
  });

  describe.each([
    ['seconds', '3000000000'],
    ['an HTTP date', 'Fri, 31 Dec 9999 23:59:59 GMT'],
  ])('from a tag API, given as %s', (_what, retryAfter) => {
    let mantago: FakeMantago;
    afterEach(async () => mantago.close());

    it('retries the operation, and calls the provider again for others, after the cap', async () => {
      mantago = await startFakeMantago();
      const all = { ...env, MANTAGO_BASE_URL: mantago.baseUrl, MANTAGO_BOT_ID: mantago.botId, MANTAGO_TOKEN: mantago.token, MANTAGO_SECRET: mantago.secret };
      h = await startHarness(all, { 'rules.yaml': COUPON_RULES });
      running = await startDelivery(h, all);
      mantago.api.enqueue({ status: 429, headers: { 'retry-after': retryAfter }, body: mantagoError(429, 'slow down') });

      await postCoupon(h, 'Upaused1');
      const [retry] = await running.waitForOutcomes(1, (o) => o.outcome === 'retry');
      expect(retry).toMatchObject({ status: 429 });
      // Refused with nothing accepted before it: no estimate of the limit, and the log says so rather than "paced".
      const limitMet = h.logs.parsed().filter((l) => String(l.message).startsWith('tag API rate limit met'));
      expect(limitMet).toEqual([expect.objectContaining({ message: 'tag API rate limit met: calls held while the bucket refills (no estimate of the limit yet)', pauseMs: expect.any(Number) })]);
      // The provider is paused now (the rate gate): another user's operation waits for the same cap.
      await postCoupon(h, 'Upaused2');
      await running.waitForOutcomes(2, (o) => o.outcome === 'applied', 10_000);

      expect(mantago.personalTagsOf('line', 'Upaused1')).toEqual(['tag-coupon']);
      expect(mantago.personalTagsOf('line', 'Upaused2')).toEqual(['tag-coupon']);
      const [limited, ...after] = mantago.api.requests;
      expect(limited!.status).toBe(429);
      // Nothing went out during the pause: every later call started at least ~RETRY_MAX_MS after the 429
      // (the scheduler may start a few ms early, never seconds late given a 10 s wait above).
      for (const r of after) expect(r.receivedAt - limited!.finishedAt!).toBeGreaterThanOrEqual(RETRY_MAX_MS - 50);
    });
  });

  it('from a forward destination: retried after the cap, not at FORWARD_GIVE_UP_MS', async () => {
    const downstream = await HugeAnswerServer.start({ status: 200, bytes: 2 });
    try {
      downstream.script.push({ status: 503, bytes: 20, headers: { 'retry-after': '3000000000' } });
      const all = { ...env, LINE_FORWARD_URLS: `${downstream.url}/hook` };
      h = await startHarness(all, { 'rules.yaml': COUPON_RULES });
      running = await startDelivery(h, all);
      await postCoupon(h, 'Uforwardpaused');
      await running.waitForForwards(1, (o) => o.outcome === 'delivered', 10_000);
      expect(running.forwardOutcomes.map((o) => [o.outcome, o.status])).toEqual([
        ['retry', 503],
        ['delivered', 200],
      ]);
    } finally {
      await downstream.close();
    }
  });
});
