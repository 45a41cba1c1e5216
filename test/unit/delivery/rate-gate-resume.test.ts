import { RateGate } from '../../../src/delivery/rate-gate';
import { simulateDrain, type DrainSimulation } from '../../helpers/drain-simulation';
import { callFrom } from '../../helpers/gate-calls';

const HOUR = 3_600_000;

/**
 * A gate started from an estimate learned before (RateGateOptions.startFrom: the estimate kept
 * in the store by the gate before a restart, or by the account's previous caller) starts as one
 * that had just fitted it, instead of unpaced.
 */
describe('RateGate started from an estimate learned before', () => {
  it('paces from its first call just below the estimate (where 429s pause), however long after it was made', () => {
    let now = 0;
    const gate = new RateGate({ now: () => now, maxPauseMs: HOUR, startFrom: { rate: 200, burst: 20, pausing: true } });
    // The first drain comes an hour after the start: the cap's curve begins with it, not with the gate.
    now = HOUR;
    expect(gate.rateCap).toBeCloseTo(200 * 0.985, 6);
    expect(gate.available(32)).toBe(9); // 50 ms worth of calls per claim, as after a fit
    const waits = Array.from({ length: 5 }, () => gate.take().waitMs);
    expect(waits[0]).toBe(0);
    expect(waits[4]! - waits[3]!).toBeCloseTo(1000 / (200 * 0.985), 6);
    expect(gate.limitEstimate).toEqual({ rate: 200, confident: true, source: 'stored' });
    // Probing gently, as after a fit: +12.5 % after 30 s.
    now = HOUR + 30_000;
    expect(gate.rateCap).toBeCloseTo(200 * 0.985 * 1.125, 6);
  });

  it('aims at the estimate itself where 429s did not pause the account', () => {
    let now = 0;
    const gate = new RateGate({ now: () => now, maxPauseMs: HOUR, startFrom: { rate: 150, pausing: false } });
    now = 5000;
    gate.take();
    expect(gate.rateCap).toBeCloseTo(150, 6);
  });

  it('tells what it learned, for the next gate: nothing before a 429, the estimate and the fitted bucket after', () => {
    let now = 0;
    const fresh = new RateGate({ now: () => now, maxPauseMs: HOUR });
    expect(fresh.learned).toBeUndefined();
    const started = new RateGate({ now: () => now, maxPauseMs: HOUR, startFrom: { rate: 200, burst: 20, pausing: true } });
    expect(started.learned).toEqual({ rate: 200, burst: 20, pausing: true, confident: true, source: 'stored' });
    // A first, cautious estimate is told too, but not as one to start from.
    for (let i = 0; i < 30; i++) fresh.accepted(callFrom(fresh, i * 2), i * 2 + 20);
    now = 80;
    fresh.limited(1000, callFrom(fresh, 60));
    expect(fresh.learned).toMatchObject({ confident: false, pausing: false });
  });

  it('a stored estimate too high is lowered by the next run of 429s, as a fit is', () => {
    let now = 0;
    const gate = new RateGate({ now: () => now, maxPauseMs: HOUR, startFrom: { rate: 400, burst: 20, pausing: true } });
    now = 10;
    // Refused 300 ms into the drain, while not probing: the estimate was too high.
    for (let i = 0; i < 100; i++) gate.accepted(callFrom(gate, 10 + i * 2.5), 10 + i * 2.5 + 20);
    now = 300;
    gate.limited(1000, callFrom(gate, 280));
    const e = gate.limitEstimate!;
    expect(e.rate).toBeLessThan(0.97 * 400 * 0.985);
    expect(e.rate).toBeGreaterThanOrEqual(0.8 * 400 * 0.985 - 1e-9);
    expect(e.confident).toBe(true);
  });
});

describe('a drain interrupted by a restart (simulated: 200/s, bursts of 20, Retry-After: 1)', () => {
  // As the worker runs it (rate-estimate.test.ts, asWorker): 6,000 operations, the service
  // restarted 15 s in (down for 2 s: a deploy), the new gate started from what the old one had
  // learned and the API bore out — the estimate kept in the store — or fresh, as every start was
  // before. (10 s in, one drain of the six had fitted only 4 s before: nothing borne out yet.)
  const drain = (seed: number, sendJitterMs: number, startFrom: 'learned' | 'none', restartAtMs = 15_000) =>
    simulateDrain({
      ops: 6000, latencyMs: 20, concurrency: 'adaptive', claimMs: 2, seed, jitterMs: 3, sendJitterMs,
      limit: { perSecond: 200, burst: 20, retryAfter: true }, restart: { atMs: restartAtMs, downMs: 2000, startFrom },
    });

  it.each([
    [1, 3],
    [2, 3],
    [3, 3],
    [1, 12],
    [2, 12],
    [3, 12],
  ])('started from the stored estimate, meets fewer runs of 429s after the restart than a fresh gate, and drains faster (seed %i, calls leave up to %i ms late)', (seed, sendJitterMs) => {
    const resumed = drain(seed, sendJitterMs, 'learned');
    const fresh = drain(seed, sendJitterMs, 'none');
    expect(resumed.restarted?.startedFrom).toBeGreaterThan(0.97 * 200);
    expect(fresh.restarted?.startedFrom).toBeUndefined();
    expect(resumed.restarted?.runs).toBeLessThanOrEqual(1);
    expect(fresh.restarted?.runs).toBeGreaterThanOrEqual(3);
    expect(resumed.rate).toBeGreaterThan(fresh.rate + 0.04 * 200);
    expect(resumed.refused).toBeLessThan(fresh.refused);
  });

  it('restarted before any estimate rests on long evidence (after one run of 429s), starts fresh', () => {
    const early = (startFrom: 'learned' | 'none') => drain(1, 3, startFrom, 1000);
    const resumed = early('learned');
    expect(resumed.restarted?.startedFrom).toBeUndefined();
    expect(JSON.stringify(resumed)).toBe(JSON.stringify(early('none')));
  });

  it('a gate started from a stored estimate paces a drain that never restarts as the gate that learned it did after its fit', () => {
    const first = simulateDrain({ ops: 3000, latencyMs: 20, concurrency: 'adaptive', claimMs: 2, seed: 1, jitterMs: 3, sendJitterMs: 3, limit: { perSecond: 200, burst: 20, retryAfter: true } });
    const sim: DrainSimulation = { ops: 3000, latencyMs: 20, concurrency: 'adaptive', claimMs: 2, seed: 1, jitterMs: 3, sendJitterMs: 3, limit: { perSecond: 200, burst: 20, retryAfter: true } };
    const next = simulateDrain({ ...sim, gate: { startFrom: { rate: first.estimate!, burst: 20, pausing: true } } });
    expect(first.runs).toBe(2);
    expect(next.runs).toBe(0);
    expect(next.rate).toBeGreaterThan(0.95 * 200);
  });
});

describe('an estimate is kept for the next gate only once the API bore it out (onConfirmed)', () => {
  const sim = (startFrom?: { rate: number; burst?: number; pausing: boolean }) => {
    const confirmed: { rate: number; source: string }[] = [];
    const result = simulateDrain({
      ops: 6000, latencyMs: 20, concurrency: 'adaptive', claimMs: 2, seed: 1, jitterMs: 3, sendJitterMs: 3, limit: { perSecond: 200, burst: 20, retryAfter: true },
      gate: { startFrom, onConfirmed: (l) => confirmed.push({ rate: l.rate, source: l.source }) },
    });
    return { result, confirmed };
  };

  it('a fresh drain: told once the fit has paced calls for 5 s without a run of 429s, at the fit', () => {
    const { result, confirmed } = sim();
    expect(result.runs).toBeGreaterThanOrEqual(2);
    expect(confirmed.length).toBeGreaterThanOrEqual(1);
    for (const c of confirmed) expect(Math.abs(c.rate - 200)).toBeLessThan(0.03 * 200);
  });

  it('a stored estimate 18 % too high with too small a bucket (a fit made early on a loaded machine) is not told again; the one it comes down to is', () => {
    const { result, confirmed } = sim({ rate: 237, burst: 5, pausing: true });
    expect(result.runs).toBeGreaterThanOrEqual(2);
    expect(confirmed.length).toBeGreaterThanOrEqual(1);
    for (const c of confirmed) expect(c.rate).toBeLessThan(1.04 * 200);
  });
});
