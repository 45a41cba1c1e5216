import request from 'supertest';
import { signLine } from '../helpers/signatures';
import { COUPON_RULES, lineBody, lineText, startHarness, type Harness } from '../helpers/app-harness';
import { startDelivery, type RunningDelivery } from '../helpers/delivery-harness';
import { HUGE_BODY_START, HugeAnswerServer, watchMemory, type HugeAnswer, type MemoryGrowth, type ServedAnswer } from '../helpers/huge-answer-server';

/**
 * Issue 17 part 2: an upstream that answers 400 MB — a forward destination or a tag
 * API — must not take the process's memory with it (CONTRACT.md "Retries": an answer's
 * body is read only up to 64 KiB). The answers are streamed by a real loopback server.
 * The bounds are generous — 50 MB of heap and buffers, 150 MB of RSS (which also counts
 * allocator slack from the retries' churn) — against the 1.2 GB a whole read took.
 */

const LINE_SECRET = 'line-secret-hostile-answers';
const HUGE = 400 * 1024 * 1024;
const MB = 1024 * 1024;

function expectBounded(growth: MemoryGrowth): void {
  expect(growth.heapAndBuffers).toBeLessThan(50 * MB);
  expect(growth.rss).toBeLessThan(150 * MB);
}

/** The answer was read no further than needed (the client hung up early) and memory stayed bounded. */
function expectReadNoFurther(served: ServedAnswer | undefined, growth: MemoryGrowth): void {
  expect(served!.cutOff).toBe(true);
  expect(served!.sent).toBeLessThan(HUGE / 10);
  expectBounded(growth);
}

const postCoupon = (h: Harness, userId: string) => {
  const body = lineBody([lineText('我要優惠券', userId)]);
  return request(h.app).post('/webhooks/line').set('content-type', 'application/json').set('x-line-signature', signLine(body, LINE_SECRET)).send(body).expect(200);
};

describe('a 400 MB answer', () => {
  jest.setTimeout(60_000);
  let upstream: HugeAnswerServer;
  let h: Harness | undefined;
  let running: RunningDelivery | undefined;

  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await h?.cleanup();
    h = undefined;
    await upstream.close();
  });

  async function start(env: Record<string, string>): Promise<{ h: Harness; running: RunningDelivery }> {
    const all = { LINE_CHANNEL_SECRET: LINE_SECRET, RETRY_MIN_MS: '100', RETRY_MAX_MS: '200', ...env };
    h = await startHarness(all, { 'rules.yaml': COUPON_RULES });
    running = await startDelivery(h, all);
    return { h, running };
  }

  describe('from a forward destination', () => {
    it('with status 200 is a delivered forward, read no further than needed, memory bounded', async () => {
      upstream = await HugeAnswerServer.start({ status: 200, bytes: HUGE });
      const { h, running } = await start({ LINE_FORWARD_URLS: `${upstream.url}/hook` });
      const memory = watchMemory();
      await postCoupon(h, 'Uforward200');
      const [outcome] = await running.waitForForwards(1);
      const [served] = await upstream.waitForServed(1);
      const growth = memory.stop();
      expect(outcome).toMatchObject({ outcome: 'delivered', status: 200 });
      expectReadNoFurther(served, growth);
      expect(await h.store.status(Date.now())).toMatchObject({ forwards: { pending: 0, dead: 0 } });
    });

    it('with status 500 is retried, each time reading only the start, and its dead letter keeps the excerpt', async () => {
      upstream = await HugeAnswerServer.start({ status: 500, bytes: HUGE, declareLength: false });
      const { h, running } = await start({ LINE_FORWARD_URLS: `${upstream.url}/hook`, FORWARD_GIVE_UP_MS: '2000' });
      const memory = watchMemory();
      await postCoupon(h, 'Uforward500');
      await running.waitForForwards(1, (o) => o.outcome === 'dead', 20_000);
      const growth = memory.stop();
      const retries = running.forwardOutcomes.filter((o) => o.outcome === 'retry');
      expect(retries.length).toBeGreaterThanOrEqual(2);
      for (const r of retries) expect(r.status).toBe(500);
      expect(upstream.served.length).toBeGreaterThanOrEqual(3);
      for (const s of upstream.served) expect(s.cutOff).toBe(true);
      expectBounded(growth);
      const [dead] = await h.store.listDeadLetters();
      expect(dead).toMatchObject({ type: 'forward', status: 500 });
      expect(dead!.bodyExcerpt?.startsWith(HUGE_BODY_START)).toBe(true);
      // Given up after a 500 at the end of the window (or just before it, with too little of it left
      // for a last attempt), or — when the last retry, due just before the end, was claimed just
      // after it (a slow machine) — not sent again: either way the 500 is named, and that its body was cut.
      const cut = ' \\(its body is longer than 64 KiB: only the start was read\\)';
      expect(dead!.reason).toMatch(
        new RegExp(`^(500 from 127\\.0\\.0\\.1:\\d+${cut} — gave up .* \\(FORWARD_GIVE_UP_MS(: \\d+ ms were left, less than the \\d+ ms a last attempt waits \\(RETRY_MIN_MS, at most a quarter of the window\\))?\\)|not sent: .* past FORWARD_GIVE_UP_MS \\(2 s\\); its last attempt: 500 from 127\\.0\\.0\\.1:\\d+${cut})$`),
      );
    });
  });

  describe('from a tag API', () => {
    const mantago = (url: string) => ({ MANTAGO_BASE_URL: url, MANTAGO_BOT_ID: 'bot-1', MANTAGO_TOKEN: 'token-hostile', MANTAGO_SECRET: 'secret-hostile' });

    // Read up to 64 KiB and judged by its status like any other answer (CONTRACT.md "Retries").
    /** One coupon webhook against a tag API giving `answer`; once the operation's first outcome is `outcome` and the answer has ended. */
    async function answered(answer: HugeAnswer, outcome: 'applied' | 'dead', user: string) {
      upstream = await HugeAnswerServer.start(answer);
      const { h, running } = await start(mantago(upstream.url));
      const memory = watchMemory();
      await postCoupon(h, user);
      await running.waitForOutcomes(1, (o) => o.outcome === outcome);
      const [served] = await upstream.waitForServed(1);
      return { h, running, served, growth: memory.stop() };
    }

    it('with status 200 is an applied tag, read no further than needed, the call made once, memory bounded', async () => {
      const { h, running, served, growth } = await answered({ status: 200, bytes: HUGE }, 'applied', 'Utagapi200');
      expect(running.outcomes.map((o) => o.outcome)).toEqual(['applied']);
      expect(upstream.served).toHaveLength(1);
      expectReadNoFurther(served, growth);
      expect(await h.store.status(Date.now())).toMatchObject({ operations: { pending: 0, dead: 0 } });
    });

    it('with status 400 is a dead letter at once (another 4xx is not retried) that keeps the excerpt, memory bounded', async () => {
      const { h, running, served, growth } = await answered({ status: 400, bytes: HUGE, declareLength: false }, 'dead', 'Utagapi400');
      expect(served!.cutOff).toBe(true);
      expect(running.outcomes.map((o) => o.outcome)).toEqual(['dead']);
      expect(upstream.served).toHaveLength(1);
      expectBounded(growth);
      const [dead] = await h.store.listDeadLetters();
      expect(dead).toMatchObject({ type: 'operation', status: 400 });
      expect(dead!.reason).toBe('400 from mantago: bad request (its body is longer than 64 KiB: only the start was read)');
      expect(dead!.bodyExcerpt?.startsWith(HUGE_BODY_START)).toBe(true);
    });

    it('with status 500 is retried and keeps the excerpt, memory bounded', async () => {
      upstream = await HugeAnswerServer.start({ status: 500, bytes: HUGE, declareLength: false });
      const { h, running } = await start({ ...mantago(upstream.url), RETRY_GIVE_UP_MS: '1500' });
      const memory = watchMemory();
      await postCoupon(h, 'Utagapi500');
      await running.waitForOutcomes(1, (o) => o.outcome === 'dead', 20_000);
      const growth = memory.stop();
      const retries = running.outcomes.filter((o) => o.outcome === 'retry');
      expect(retries.length).toBeGreaterThanOrEqual(2);
      for (const r of retries) expect(r.status).toBe(500);
      expectBounded(growth);
      const [dead] = await h.store.listDeadLetters();
      expect(dead).toMatchObject({ type: 'operation', status: 500 });
      expect(dead!.bodyExcerpt?.startsWith(HUGE_BODY_START)).toBe(true);
    });
  });
});
