import { ConcurrencyLimit } from '../../../src/delivery/concurrency-limit';

let clock = 0;

/** One round of answers: `limit` calls of `latencyMs` started together with the limit in use, the first answered `outcome`. */
function round(c: ConcurrencyLimit, latencyMs: number, outcome: 'ok' | 'limited' | 'failed' = 'ok'): void {
  const n = c.limit;
  const started = clock;
  clock += latencyMs;
  for (let i = 0; i < n; i++) c.record(started, clock, i === 0 ? outcome : 'ok', n);
}

describe('ConcurrencyLimit', () => {
  it('grows while calls use all of it and latency stays flat, up to max', () => {
    const c = new ConcurrencyLimit({ initial: 8, max: 32 });
    const seen = [c.limit];
    for (let i = 0; i < 6; i++) {
      round(c, 200);
      seen.push(c.limit);
    }
    expect(seen).toEqual([8, 12, 18, 27, 32, 32, 32]);
  });

  it('does not grow while calls do not use all of it (nothing waits for a slot)', () => {
    const c = new ConcurrencyLimit({ initial: 8, max: 32 });
    for (let i = 0; i < 5; i++) for (let j = 0; j < 8; j++) c.record(clock, (clock += 20), 'ok', 3);
    expect(c.limit).toBe(8);
  });

  it('shrinks when latency doubles (the API queues), and halves on a 429 or 5xx, once for the calls in flight together', () => {
    const c = new ConcurrencyLimit({ initial: 8, max: 32 });
    round(c, 20);
    round(c, 20);
    expect(c.limit).toBe(18);
    round(c, 80);
    expect(c.limit).toBe(16);
    // Every answer of calls in flight together a 429: halved once, not 16 times.
    const started = clock;
    clock += 20;
    for (let i = 0; i < 16; i++) c.record(started, clock + i, 'limited', 16);
    expect(c.limit).toBe(8);
    round(c, 20, 'failed');
    expect(c.limit).toBe(4);
  });

  it('with PROVIDER_CONCURRENCY set, never goes above it', () => {
    const c = new ConcurrencyLimit({ initial: 3, max: 3 });
    for (let i = 0; i < 10; i++) round(c, 10);
    expect(c.limit).toBe(3);
    round(c, 10, 'limited');
    expect(c.limit).toBeLessThan(3);
    for (let i = 0; i < 10; i++) round(c, 10);
    expect(c.limit).toBe(3);
  });
});
