import { RateGate } from '../../../src/delivery/rate-gate';
import { TokenBucket } from '../../helpers/fake-token-bucket';
import { callFrom } from '../../helpers/gate-calls';

const HOUR = 3_600_000;

/**
 * 400 calls sent at 400/s from `from` against a 200/s bucket that is empty (but for the first
 * `acceptedFirst` calls): every other one refused. Their answers are told to the gate together,
 * 20 ms after the last one started (as the answers of calls in flight come back), in the order
 * they started. Returns that time.
 */
function saturate(gate: RateGate, setNow: (t: number) => void, from = 0, acceptedFirst = 0): number {
  const calls = Array.from({ length: 400 }, (_, i) => callFrom(gate, from + i * 2.5));
  const end = from + 399 * 2.5 + 20;
  setNow(end);
  calls.forEach((call, i) => {
    if (i < acceptedFirst || i % 2 === 0) gate.accepted(call);
    else gate.limited(undefined, call);
  });
  return end;
}

describe('RateGate', () => {
  it('does not pace at all until the provider says 429', () => {
    let now = 0;
    const gate = new RateGate({ now: () => now, maxPauseMs: HOUR });
    for (let i = 0; i < 1000; i++) expect(gate.take().waitMs).toBe(0);
    expect(gate.waitMs()).toBe(0);
    expect(gate.rateCap).toBeUndefined();
    now += 1;
    expect(gate.available(8)).toBe(8);
  });

  it('pauses every call until Retry-After', () => {
    let now = 1000;
    const gate = new RateGate({ now: () => now, maxPauseMs: HOUR });
    gate.limited(30_000, callFrom(gate, now));
    expect(gate.waitMs()).toBe(30_000);
    expect(gate.available(8)).toBe(0);
    now += 30_000;
    expect(gate.waitMs()).toBe(0);
  });

  it('pauses at most maxPauseMs (RETRY_MAX_MS), whatever Retry-After says', () => {
    let now = 1000;
    const gate = new RateGate({ now: () => now, maxPauseMs: 5000 });
    gate.limited(3_000_000_000_000, callFrom(gate, now)); // Retry-After: 3000000000 (seconds)
    expect(gate.waitMs()).toBe(5000);
    now += 5000;
    expect(gate.waitMs()).toBe(0);
    expect(gate.available(8)).toBeGreaterThan(0);
  });

  it('after a 429 without Retry-After paces evenly just below the estimate, then recovers to it within a second', () => {
    let now = 0;
    const gate = new RateGate({ now: () => now, maxPauseMs: HOUR, backoffFactor: 0.8 });
    // The gate's own calls emptied the bucket: the first few were accepted (a refusal with hardly
    // any call accepted before it is another client's doing, most likely: see below).
    const heard = saturate(gate, (t) => (now = t), 0, 4);
    const estimate = gate.limitEstimate;
    expect(estimate?.source).toBe('saturated');
    expect(estimate?.rate).toBeGreaterThan(195);
    expect(estimate?.rate).toBeLessThanOrEqual(200);
    const rate = estimate?.rate as number;
    // The run of refusals set the cap once, at 0.8 × the estimate, when the gate heard of it…
    now = heard;
    const cap = gate.rateCap as number;
    expect(cap).toBeCloseTo(0.8 * rate, 5);
    expect(cap).toBeLessThan(rate);
    const waits = Array.from({ length: 10 }, () => gate.take().waitMs);
    for (let i = 1; i < waits.length; i++) expect((waits[i] as number) - (waits[i - 1] as number)).toBeCloseTo(1000 / cap, 5);
    // …and a second and a half later it is back at the estimate.
    now = heard + 1500;
    expect(gate.rateCap).toBeGreaterThan(0.99 * rate);
  });

  it('after a Retry-After pause starts just below a well-founded estimate (1.5 %), and probes above it gently, then faster', () => {
    let now = 0;
    const gate = new RateGate({ now: () => now, maxPauseMs: HOUR, probeSeconds: { confident: 60, unsure: 2 } });
    saturate(gate, (t) => (now = t));
    const heard = saturate(gate, (t) => (now = t));
    const rate = gate.limitEstimate?.rate as number;
    expect(gate.limitEstimate?.confident).toBe(true);
    now = heard + 20_000; // probing 3.7 % above the estimate: a 429 then does not lower it
    gate.limited(1000, callFrom(gate, now - 20)); // Retry-After: 1
    expect(gate.limitEstimate?.rate).toBe(rate);
    expect(gate.waitMs()).toBe(1000);
    now += 1000; // the pause is over: the bucket is full again
    // Every run now costs a pause: a cap a little too high would empty the bucket in the end.
    const aim = rate * 0.985;
    expect(gate.rateCap).toBeCloseTo(aim, 5);
    const resumed = now;
    now = resumed + 5000;
    expect(gate.rateCap).toBeLessThan(aim * 1.001); // (5/60)³ ≈ 0.06 %
    now = resumed + 30_000;
    expect(gate.rateCap).toBeCloseTo(aim * 1.125, 5); // (30/60)³
    now = resumed + 60_000;
    expect(gate.rateCap).toBeCloseTo(aim * 2, 5);
  });

  it('a slot reserved before a Retry-After pause is moved to after it', () => {
    let now = 0;
    const gate = new RateGate({ now: () => now, maxPauseMs: HOUR });
    saturate(gate, (t) => (now = t));
    gate.limited(2000, callFrom(gate, now));
    expect(gate.take().waitMs).toBeGreaterThanOrEqual(2000);
    expect(gate.pausedMs()).toBe(2000);
  });

  it('a 503 with Retry-After pauses without saying anything about the rate', () => {
    let now = 0;
    const gate = new RateGate({ now: () => now, maxPauseMs: HOUR });
    gate.pause(5000);
    expect(gate.waitMs()).toBe(5000);
    expect(gate.limitEstimate).toBeUndefined();
    now = 5000;
    expect(gate.rateCap).toBeUndefined();
    expect(gate.available(8)).toBe(8);
  });

  it('counts a burst of 429s from calls in flight together once', () => {
    let now = 0;
    const gate = new RateGate({ now: () => now, maxPauseMs: HOUR, backoffFactor: 0.8 });
    for (let i = 0; i < 200; i++) {
      now = i * 5;
      gate.accepted(callFrom(gate, now));
    }
    gate.limited(undefined, callFrom(gate, now - 20));
    const first = gate.limitEstimate?.rate as number;
    now += 20;
    gate.limited(undefined, callFrom(gate, now - 20));
    gate.limited(undefined, callFrom(gate, now - 19));
    // Backed off once (0.8 ×), not once per refusal (0.8³ ×).
    expect(gate.rateCap).toBeGreaterThan(0.79 * Math.min(first, gate.limitEstimate?.rate as number));
  });

  it('a refusal while not probing above the estimate lowers it to 0.9 × the pace then', () => {
    let now = 0;
    const gate = new RateGate({ now: () => now, maxPauseMs: HOUR });
    const heard = saturate(gate, (t) => (now = t));
    now = heard + 500; // on the way back to the estimate, not probing
    const capThen = gate.rateCap as number;
    gate.limited(undefined, callFrom(gate, now - 20));
    expect(gate.limitEstimate?.rate).toBeLessThanOrEqual(0.9 * capThen + 1e-9);
  });
  it('a 429 with nothing accepted before it (another client emptied the bucket) sets no estimate: calls wait a second, then go unpaced', () => {
    let now = 20;
    const gate = new RateGate({ now: () => now, maxPauseMs: HOUR });
    expect(gate.limited(undefined, callFrom(gate, 0))).toBe(true);
    expect(gate.limitEstimate).toBeUndefined();
    expect(gate.rateCap).toBeUndefined();
    expect(gate.waitMs()).toBe(1000); // as Retry-After: 1, while the bucket refills
    now += 1000;
    expect(gate.waitMs()).toBe(0);
    expect(gate.available(8)).toBe(8);
    // With Retry-After, the pause alone.
    const paused = new RateGate({ now: () => now, maxPauseMs: HOUR });
    paused.limited(2000, callFrom(paused, now - 20));
    expect(paused.limitEstimate).toBeUndefined();
    expect(paused.waitMs()).toBe(2000);
  });

  it('the pace accepted before a run of 429s is not counted over a second the account was held', () => {
    // 400/s accepted for 100 ms; a 429 with Retry-After: 1 (the bucket held only 40); after the
    // pause, 400/s again for 100 ms, then the next 429. Half the pace is 200/s, not the 20/s
    // that 40 calls over the paused second and a bit would make it.
    let now = 0;
    const gate = new RateGate({ now: () => now, maxPauseMs: HOUR, probeSeconds: { confident: 60, unsure: 5 } });
    for (let i = 0; i < 40; i++) {
      now = i * 2.5 + 20;
      gate.accepted(callFrom(gate, i * 2.5));
    }
    now = 120;
    gate.limited(1000, callFrom(gate, 100));
    const first = gate.limitEstimate?.rate as number;
    expect(first).toBeGreaterThan(150);
    for (let i = 0; i < 40; i++) {
      now = 1120 + i * 2.5 + 20;
      gate.accepted(callFrom(gate, 1120 + i * 2.5));
    }
    now = 1240;
    gate.limited(1000, callFrom(gate, 1220));
    expect(gate.limitEstimate?.rate).toBeGreaterThan(0.75 * first);
  });

  it('the pace accepted before a 429 is not counted over a second paused by a 503 or by another instance either', () => {
    // As above, but the pause came from a 503's Retry-After, or from another instance sharing
    // the account (both gate.pause): nothing was sent during it either. Half the pace after it
    // is 166/s; counted over the paused second it was 20/s.
    let now = 0;
    const gate = new RateGate({ now: () => now, maxPauseMs: HOUR });
    for (let i = 0; i < 40; i++) {
      now = i * 2.5 + 20;
      gate.accepted(callFrom(gate, i * 2.5));
    }
    now = 120;
    gate.pause(1000);
    for (let i = 0; i < 40; i++) {
      now = 1120 + i * 2.5 + 20;
      gate.accepted(callFrom(gate, 1120 + i * 2.5));
    }
    now = 1240;
    gate.limited(undefined, callFrom(gate, 1220));
    expect(gate.limitEstimate?.source).toBe('halved');
    expect(gate.limitEstimate?.rate).toBeGreaterThan(150);
    // Such a pause does not say the bucket is full after it (another instance resumes with it):
    // a first call after it refused with nothing accepted still gives no estimate.
    const other = new RateGate({ now: () => now, maxPauseMs: HOUR });
    other.pause(1000);
    now += 1020;
    other.limited(undefined, callFrom(other, now - 20));
    expect(other.limitEstimate).toBeUndefined();
    expect(other.waitMs()).toBe(1000);
  });

  it('lets the next calls be claimed a little ahead of their slot (a claim takes a few ms that pacing must not lose)', () => {
    let now = 0;
    const gate = new RateGate({ now: () => now, maxPauseMs: HOUR });
    now = saturate(gate, (t) => (now = t)) + 2000;
    const cap = gate.rateCap as number;
    expect(gate.waitMs()).toBe(0);
    let last = 0;
    for (let i = 0; i < 5; i++) last = gate.take().waitMs;
    expect(last).toBeCloseTo((4 * 1000) / cap, 5);
    // The next free slot is one interval after the last one taken; claiming may start 20 ms earlier.
    expect(gate.waitMs()).toBeCloseTo(last + 1000 / cap - 20, 5);
  });

  it('places each call at its answer less the fastest round trip: calls started together reach the API one after another', () => {
    // A 200/s bucket, empty: the client starts calls in bunches of 10 at the same millisecond
    // every 25 ms (400/s), but they reach the API 2.5 ms apart and are answered 20 ms later.
    let now = 0;
    const gate = new RateGate({ now: () => now, maxPauseMs: HOUR });
    const bucket = new TokenBucket(200, 1, 0);
    bucket.take(0); // empty
    const calls = Array.from({ length: 400 }, (_, i) => {
      const started = Math.floor(i / 10) * 25;
      const arrives = started + (i % 10) * 2.5;
      return { started, answered: arrives + 20, ok: bucket.take(arrives) === 0 };
    });
    for (const c of calls.sort((a, b) => a.answered - b.answered)) {
      now = c.answered;
      if (c.ok) gate.accepted(callFrom(gate, c.started));
      else gate.limited(undefined, callFrom(gate, c.started));
    }
    expect(gate.limitEstimate?.source).toBe('saturated');
    expect(gate.limitEstimate?.rate).toBeGreaterThan(0.95 * 200);
    expect(gate.limitEstimate?.rate).toBeLessThanOrEqual(1.01 * 200);
  });

  /**
   * 400/s accepted for a quarter of a second (the bucket was big), then the first 429 with
   * Retry-After: 1; the clock stands at its answer (270 ms), the pause ends at 1,270 ms.
   */
  function afterFirstPausedRun() {
    const clock = { now: 0 };
    const gate = new RateGate({ now: () => clock.now, maxPauseMs: HOUR });
    for (let i = 0; i < 100; i++) {
      clock.now = i * 2.5 + 20;
      gate.accepted(callFrom(gate, i * 2.5));
    }
    clock.now = 270;
    gate.limited(1000, callFrom(gate, 250));
    return { gate, clock };
  }

  it('after a first run of 429s that pauses, holds a rough estimate to half the pace accepted before it, and climbs faster above it', () => {
    const { gate, clock } = afterFirstPausedRun();
    const e = gate.limitEstimate;
    expect(e?.confident).toBe(false);
    expect(e?.rate).toBeLessThanOrEqual(200 + 1e-9);
    const rough = e?.rate as number;
    clock.now = 1270; // the pause is over: the cap starts at the rough estimate…
    expect(gate.rateCap).toBeCloseTo(rough, 5);
    clock.now = 1270 + 3000; // …and is doubled 3 s later (not 5 s: it is cautious by design)
    expect(gate.rateCap).toBeCloseTo(2 * rough, 5);
  });

  it('where 429s pause, a run refused on the climb lowers the next start below 0.9 × the cap then (so the next stretch is paced unlike this one)', () => {
    const { gate, clock } = afterFirstPausedRun();
    clock.now = 1270 + 1500; // climbing, not yet far above the rough estimate
    const capThen = gate.rateCap as number;
    gate.limited(1000, callFrom(gate, clock.now - 20));
    expect(gate.limitEstimate?.rate).toBeLessThanOrEqual(0.9 * capThen + 1e-9);
  });
});
