import { fitTokenBucket, type BucketEpisode } from '../../../src/delivery/bucket-fit';
import { TokenBucket } from '../../helpers/fake-token-bucket';
import { simulateDrain } from '../../helpers/drain-simulation';

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

  it('without Retry-After, keeps at the limit with hardly any 429s', () => {
    const r = simulateDrain({ ops: 5000, latencyMs: 20, concurrency: 8, limit: { perSecond: 200, burst: 200, retryAfter: false } });
    expect(r.refused / r.calls).toBeLessThan(0.01);
    expect(r.rate).toBeGreaterThan(0.95 * 200);
  });

  it('does not pace an API without a limit', () => {
    const r = simulateDrain({ ops: 2000, latencyMs: 20, concurrency: 8 });
    expect(r.refused).toBe(0);
    expect(r.estimate).toBeUndefined();
    expect(r.rate).toBeGreaterThan(0.95 * (8 * 1000) / 22); // 8 in flight, 20–22 ms each
  });
});
