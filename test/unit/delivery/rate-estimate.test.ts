import { fitTokenBucket, type BucketEpisode } from '../../../src/delivery/bucket-fit';
import { TokenBucket } from '../../helpers/fake-token-bucket';
import { simulateDrain, type DrainResult } from '../../helpers/drain-simulation';

/** Calls at `pace(t)` per second from `from` into a full bucket, until the first refusal. */
function episode(bucket: { perSecond: number; burst: number }, from: number, pace: (ms: number) => number): BucketEpisode {
  const b = new TokenBucket(bucket.perSecond, bucket.burst, from);
  const accepted: number[] = [];
  for (let t = from; t < from + 600_000; t += 1000 / pace(t - from)) {
    if (b.take(t) > 0) return { accepted, refusedAt: t };
    accepted.push(t);
  }
  throw new Error('the bucket never ran empty');
}

describe('fitTokenBucket', () => {
  const bucket = { perSecond: 200, burst: 20 };

  it('finds R (just below it) and B from a steep short episode and a slow long one', () => {
    const steep = episode(bucket, 0, () => 400);
    const slow = episode(bucket, 10_000, (ms) => 150 + ms / 20); // 150/s, rising 50/s a second
    expect(slow.refusedAt - (slow.accepted[0] as number)).toBeGreaterThan(1000);
    const fit = fitTokenBucket([steep, slow]);
    expect(fit?.rate).toBeGreaterThan(0.98 * 200);
    expect(fit?.rate).toBeLessThanOrEqual(200);
    expect(fit?.burst).toBeGreaterThan(15);
    expect(fit?.burst).toBeLessThan(25);
  });

  it('declines when the episodes were paced alike (they cannot tell R apart from B)', () => {
    const a = episode(bucket, 0, (ms) => 150 + ms / 20);
    const b = episode(bucket, 20_000, (ms) => 150 + ms / 20);
    expect(fitTokenBucket([a, b])).toBeUndefined();
  });

  it('declines without an episode of a second or more (client-side start times are noisy)', () => {
    expect(fitTokenBucket([episode(bucket, 0, () => 400), episode(bucket, 5000, () => 300)])).toBeUndefined();
  });
});

describe('the rate gate in a simulated drain (deterministic: simulated time, seeded jitter)', () => {
  it('with Retry-After: 1 on every 429, finds the limit in two runs of 429s and drains near it', () => {
    const r = simulateDrain({ ops: 3000, latencyMs: 20, concurrency: 8, limit: { perSecond: 200, burst: 20, retryAfter: true } });
    expect(r.runs).toBeLessThanOrEqual(2);
    expect(r.estimate).toBeGreaterThan(0.97 * 200);
    expect(r.estimate).toBeLessThan(1.01 * 200);
    // Two pauses of a second cost 1.8 s of 15: 0.9 × the limit is out of reach; 0.85 is not.
    expect(r.rate).toBeGreaterThan(0.85 * 200);
  });

  // As the worker runs it: adaptive concurrency (8, up to 32), a claim takes 2 ms, and calls reach
  // the API up to `sendJitterMs` after the start time the gate is told (under load calls started
  // together leave one after another). Every 429 says Retry-After: 1, a burst of a tenth of the rate.
  const asWorker = (perSecond: number, burst: number, seed: number, sendJitterMs: number) =>
    simulateDrain({
      ops: perSecond * 15, latencyMs: 20, concurrency: 'adaptive', claimMs: 2, seed, jitterMs: 3, sendJitterMs, limit: { perSecond, burst, retryAfter: true },
    });

  it.each([
    [200, 20],
    [500, 50],
    [1000, 100],
  ])('with Retry-After: 1, a limit of %i/s with bursts of %i: at most three runs of 429s, about 0.8 × the limit', (perSecond, burst) => {
    const rates: number[] = [];
    for (const sendJitterMs of [3, 12]) {
      for (const seed of [1, 2, 3]) {
        const r = asWorker(perSecond, burst, seed, sendJitterMs);
        expect(r.runs).toBeLessThanOrEqual(3);
        expect(r.refused / r.calls).toBeLessThan(0.05);
        expect(r.rate).toBeGreaterThan(0.7 * perSecond);
        rates.push(r.rate / perSecond);
      }
    }
    // Two runs cost 2 × 0.9 s of a 15 s drain: ~0.89 is the most; the means are 0.79–0.86.
    expect(rates.reduce((a, b) => a + b, 0) / rates.length).toBeGreaterThan(0.78);
  });

  it.each([
    [50, 10],
    [100, 10],
  ])('with Retry-After: 1, a low limit of %i/s with bursts of %i (a token or two per round trip): 429s stay rare, the rate above 0.6 × the limit', (perSecond, burst) => {
    for (const sendJitterMs of [3, 12]) {
      for (const seed of [1, 2, 3]) {
        const r = asWorker(perSecond, burst, seed, sendJitterMs);
        expect(r.refused / r.calls).toBeLessThan(0.05);
        expect(r.rate).toBeGreaterThan(0.6 * perSecond);
      }
    }
  });

  it('with Retry-After: 1 and bursts of a whole second, keeps at the limit (a pause then costs nothing)', () => {
    for (const seed of [1, 2, 3]) {
      const r = asWorker(200, 200, seed, 12);
      expect(r.refused / r.calls).toBeLessThan(0.05);
      expect(r.rate).toBeGreaterThan(0.95 * 200);
    }
  });

  it('without Retry-After, keeps at the limit with hardly any 429s', () => {
    const r = simulateDrain({ ops: 5000, latencyMs: 20, concurrency: 8, limit: { perSecond: 200, burst: 200, retryAfter: false } });
    expect(r.refused / r.calls).toBeLessThan(0.01);
    expect(r.rate).toBeGreaterThan(0.95 * 200);
  });

  // Several instances may share one provider account, and the instance before a restart used it
  // too: a drain may begin with the bucket just emptied by another client, its first calls refused
  // with hardly any accepted before them. That says only that the bucket is empty, not how fast it
  // refills. It used to give an estimate (1/s when nothing at all was accepted) that the cap climbed
  // back from slowly, and such drains ran at 0.37–0.74 × the rate of the same drain starting with
  // a full bucket (78–157/s against 202–213/s without Retry-After, 93–115/s against 167–178/s with
  // it). Now it gives no estimate and costs a second's hold and a run of 429s: 0.92–0.99 × (198/s;
  // 163–165/s).
  it.each([
    [false, 200],
    [true, 20],
  ])('a drain that starts with the bucket emptied by another client (Retry-After: %s, bursts of %i) keeps 0.85 × the rate of one that starts full', (retryAfter, burst) => {
    for (const sendJitterMs of [3, 12]) {
      for (const seed of [1, 2, 3]) {
        const drain = (startTokens?: number) =>
          simulateDrain({
            ops: 3000, latencyMs: 20, concurrency: 'adaptive', claimMs: 2, seed, jitterMs: 3, sendJitterMs, limit: { perSecond: 200, burst, retryAfter, startTokens },
          });
        const full = drain();
        const emptied = drain(0);
        expect(emptied.refused / emptied.calls).toBeLessThan(0.05);
        expect(emptied.rate).toBeGreaterThan(0.85 * full.rate);
      }
    }
  });

  // A real tag API's rate limiter answers 429 at its edge, long before an accepted call's write is
  // done. Counted at the 429, the calls accepted just before it had not answered yet: the first run
  // looked like a bucket another client had emptied, the next like one that accepted next to nothing,
  // and the fit's episodes lacked a round trip's worth. With accepted calls answered in 100 ms and
  // 429s in 10 ms (adaptive concurrency, as the worker), drains ran at (before → now, per seed):
  // bursts of 20 with Retry-After 87–89/s → 158–161/s (429s as slow as accepted calls: 133–142 →
  // 153–156), bursts of 200 with it 177–181 → 187–193, bursts of 20 without it 102–115 → 122–126,
  // bursts of 200 without it 204–209 either way.
  it.each([
    [20, true, 0.75],
    [200, true, 0.9],
    [20, false, 0.55],
    [200, false, 0.95],
  ])('429s answered in 10 ms, accepted calls in 100 ms (bursts of %i, Retry-After: %s): as fast as with 429s as slow, above %d × the limit', (burst, retryAfter, atLeast) => {
    for (const sendJitterMs of [3, 12]) {
      for (const seed of [1, 2, 3]) {
        const drain = (refusedLatencyMs: number) =>
          simulateDrain({
            ops: 3000, latencyMs: 100, refusedLatencyMs, concurrency: 'adaptive', claimMs: 2, seed, jitterMs: 3, sendJitterMs, limit: { perSecond: 200, burst, retryAfter },
          });
        const slow = drain(100);
        const fast = drain(10);
        expect(fast.refused / fast.calls).toBeLessThan(0.02);
        expect(fast.rate).toBeGreaterThan(0.97 * slow.rate);
        expect(fast.rate).toBeGreaterThan(atLeast * 200);
      }
    }
  });

  // A 429 is placed just after the accepted calls that started with it; with accepted answers
  // spread over 30 ms beyond their 100 ms and 429s in 5 ms, that can fall after the 429's own
  // answer, where its Retry-After pause began. The pause then looked shorter than the second that
  // refills the bucket, and the next stretch, pause included, was taken for a saturated one: a
  // confident estimate of half the limit (seeds 5 and 18: 101.8 and 101.2/s; now 152.9 and 160.3,
  // as the other seeds).
  it.each([5, 18])('a 429 placed after its own answer still pauses long enough to refill the bucket (seed %i)', (seed) => {
    const drain = simulateDrain({
      ops: 3000, latencyMs: 100, refusedLatencyMs: 5, concurrency: 'adaptive', claimMs: 2, seed, jitterMs: 30, sendJitterMs: 3, limit: { perSecond: 200, burst: 20, retryAfter: true },
    });
    expect(drain.rate).toBeGreaterThan(140);
  });

  // Every 429 is taken for the bucket running empty. An API that refuses 1 call in 10 whatever
  // the pace (a quota shared with another client) then drags the estimate down run after run — a
  // refusal while not probing lowers it to 0.9 × the cap, each one backs the cap off to 0.8 × and
  // restarts the probe, and the estimator's own figures follow the pace the gate itself allows —
  // to a few calls a second (3.7/s here, against 363/s without refusals). Marked failing until
  // the gate tells such refusals apart; it should then keep about 0.9 × the pace without them.
  // The drains run in a test of their own, which must pass: an error in the simulation would
  // otherwise count as the expected failure below.
  let refusedAnyway: { free: DrainResult; r: DrainResult } | undefined;
  it('with 1 call in 10 refused whatever the pace, still drains every operation', () => {
    const free = simulateDrain({ ops: 3000, latencyMs: 20, concurrency: 8 });
    const r = simulateDrain({ ops: 3000, latencyMs: 20, concurrency: 8, refusedAnyway: 0.1, maxMs: 3_600_000 });
    expect(r.calls - r.refused).toBe(3000);
    expect(r.refused).toBeGreaterThan(0);
    refusedAnyway = { free, r };
  });
  it.failing('with 1 call in 10 refused whatever the pace, keeps most of the pace the API accepts', () => {
    // Without the drains (the test above failed) nothing throws here, so this one fails too.
    if (refusedAnyway === undefined) return;
    expect(refusedAnyway.r.rate).toBeGreaterThan(0.75 * refusedAnyway.free.rate);
  });

  // A drain begun while its webhooks still arrive (faster than the limit) goes out at their pace
  // until the first 429: just above the limit, not the unpaced burst of a full queue. Half that
  // pace is far below the limit, the climb from there crosses it steeply, and every later stretch
  // was paced exactly like the one before (the same 'halved' start, the same curve): the fit never
  // saw two episodes unlike enough, and a 50/s limit with bursts of 10 stayed at 28.5/s 'halved'
  // with a run of 429s every 4.6 s (13 runs in 30 s of webhooks at 62/s, 16 at 75/s). Now each such
  // run moves the next start halfway up to 0.9 × the pace then: 5–8 runs, fitted at the limit.
  it.each([
    [1.25, 8],
    [1.5, 6],
  ])('webhooks arriving at %d × a limit of 50/s (bursts of 10, Retry-After: 1) for 30 s: the gate fits the limit, at most %i runs of 429s', (times, maxRuns) => {
    const perSecond = 50;
    const ops = perSecond * times * 30;
    for (const sendJitterMs of [3, 12]) {
      for (const seed of [1, 2, 3]) {
        const r = simulateDrain({
          ops, arrivalAt: (i) => (i * 1000) / (perSecond * times), latencyMs: 20, concurrency: 'adaptive', claimMs: 2, seed, jitterMs: 3, sendJitterMs, limit: { perSecond, burst: 10, retryAfter: true },
        });
        expect(r.runs).toBeLessThanOrEqual(maxRuns);
        expect(r.estimate).toBeGreaterThan(0.9 * perSecond);
        expect(r.estimate).toBeLessThan(1.05 * perSecond);
      }
    }
  });

  // Two episodes can agree on two rates far apart, each explaining every call both saw: a drain
  // that went out at its webhooks' pace (1.1 × the limit) from a full bucket, then a climb from
  // half that pace, implied the same bucket at the limit and again well below it (50/s: at 22/s
  // with a bucket of 60; 200/s: at 140–148/s with one of 65–72). Which one the fit took depended
  // on where its 2 % scan happened to fall: 22/s in 5 of 6 drains at 50/s, 140–148/s in 4 of 6 at
  // 200/s, 62–65/s (a bucket of 250) in 2 of 6 with webhooks at 0.5 × for 5 s then 1.25 × — and
  // a fit is probed gently, so the gate ran that slow for the rest of the drain and met no 429
  // (26.6–27.2/s of 50; 142.5–148.9/s of 200; 85–87/s). Now a fit that agrees as well at a rate
  // more than 10 % higher waits for an episode that tells them apart: 43.5–44.5/s, 133.6–176.1/s
  // (the 133.6 is a drain that never fitted, before either), 135–154/s.
  it.each([
    [50, 10, 0.8],
    [200, 20, 0.65],
  ])('webhooks arriving at 1.1 × a limit of %i/s (bursts of %i, Retry-After: 1) for 30 s: the gate fits the limit, not a rate far below it, and drains above %d × it', (perSecond, burst, atLeast) => {
    for (const sendJitterMs of [3, 12]) {
      for (const seed of [1, 2, 3]) {
        const r = simulateDrain({
          ops: perSecond * 33, arrivalAt: (i) => (i * 10_000) / (perSecond * 11), latencyMs: 20, concurrency: 'adaptive', claimMs: 2, seed, jitterMs: 3, sendJitterMs, limit: { perSecond, burst, retryAfter: true },
        });
        expect(r.estimate).toBeGreaterThan(0.9 * perSecond);
        expect(r.estimate).toBeLessThan(1.05 * perSecond);
        expect(r.rate).toBeGreaterThan(atLeast * perSecond);
      }
    }
  });

  it('webhooks at 0.5 × a limit of 200/s (bursts of 20, Retry-After: 1) for 5 s, then at 1.25 × for 25 s: the gate fits the limit, not a rate far below it', () => {
    for (const sendJitterMs of [3, 12]) {
      for (const seed of [1, 2, 3]) {
        const r = simulateDrain({
          ops: 500 + 6250, arrivalAt: (i) => (i < 500 ? i * 10 : 5000 + (i - 500) * 4), latencyMs: 20, concurrency: 'adaptive', claimMs: 2, seed, jitterMs: 3, sendJitterMs, limit: { perSecond: 200, burst: 20, retryAfter: true },
        });
        expect(r.estimate).toBeGreaterThan(0.9 * 200);
        expect(r.estimate).toBeLessThan(1.05 * 200);
        expect(r.rate).toBeGreaterThan(0.65 * 200);
      }
    }
  });

  it('does not pace an API without a limit', () => {
    const r = simulateDrain({ ops: 2000, latencyMs: 20, concurrency: 8 });
    expect(r.refused).toBe(0);
    expect(r.estimate).toBeUndefined();
    expect(r.rate).toBeGreaterThan(0.95 * (8 * 1000) / 22); // 8 in flight, 20–22 ms each
  });
});
