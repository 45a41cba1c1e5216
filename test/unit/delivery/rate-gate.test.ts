import { RateGate } from '../../../src/delivery/rate-gate';

const HOUR = 3_600_000;

describe('RateGate', () => {
  it('does not pace at all until the provider says 429', () => {
    let now = 0;
    const gate = new RateGate({ now: () => now, maxPauseMs: HOUR });
    for (let i = 0; i < 1000; i++) expect(gate.take()).toBe(0);
    expect(gate.waitMs()).toBe(0);
    expect(gate.rateCap).toBeUndefined();
    now += 1;
    expect(gate.available(8)).toBe(8);
  });

  it('pauses every call until Retry-After', () => {
    let now = 1000;
    const gate = new RateGate({ now: () => now, maxPauseMs: HOUR });
    gate.limited(30_000);
    expect(gate.waitMs()).toBe(30_000);
    expect(gate.available(8)).toBe(0);
    now += 30_000;
    expect(gate.waitMs()).toBe(0);
  });

  it('pauses at most maxPauseMs (RETRY_MAX_MS), whatever Retry-After says', () => {
    let now = 1000;
    const gate = new RateGate({ now: () => now, maxPauseMs: 5000 });
    gate.limited(3_000_000_000_000); // Retry-After: 3000000000 (seconds)
    expect(gate.waitMs()).toBe(5000);
    now += 5000;
    expect(gate.waitMs()).toBe(0);
    expect(gate.available(8)).toBeGreaterThan(0);
  });

  it('after a 429 caps the rate just below what was achieved and spreads calls evenly', () => {
    let now = 0;
    const gate = new RateGate({ now: () => now, maxPauseMs: HOUR, backoffFactor: 0.9 });
    for (let i = 0; i < 400; i++) {
      now = i * 2.5; // 400 calls/s
      gate.take();
    }
    now = 1000;
    gate.limited(undefined);
    expect(gate.rateCap).toBeGreaterThan(300);
    expect(gate.rateCap).toBeLessThan(400);
    const cap = gate.rateCap as number;
    const waits = Array.from({ length: 10 }, () => gate.take());
    // successive slots are 1000/cap ms apart
    for (let i = 1; i < waits.length; i++) expect((waits[i] as number) - (waits[i - 1] as number)).toBeCloseTo(1000 / cap, 5);
  });

  it('lets the cap creep up again while no 429 arrives', () => {
    let now = 0;
    const gate = new RateGate({ now: () => now, maxPauseMs: HOUR, increasePerSecond: 5 });
    for (let i = 0; i < 100; i++) {
      now = i * 10;
      gate.take();
    }
    gate.limited(undefined);
    const before = gate.rateCap as number;
    now += 10_000;
    gate.waitMs();
    expect(gate.rateCap).toBeCloseTo(before + 50, 5);
  });

  it('counts a burst of 429s from calls in flight together once', () => {
    let now = 0;
    const gate = new RateGate({ now: () => now, maxPauseMs: HOUR });
    for (let i = 0; i < 200; i++) {
      now = i * 5;
      gate.take();
    }
    gate.limited(undefined);
    const once = gate.rateCap;
    now += 20;
    gate.limited(undefined);
    gate.limited(undefined);
    expect(gate.rateCap).toBe(once);
  });
});
