import { BorneOut } from '../../../src/delivery/borne-out';

/** RateGate's onConfirmed: an estimate is borne out by 5 s of calls at 0.9 × it or more without a run of 429s. */
describe('BorneOut', () => {
  /** Calls accepted every `gapMs` from `since` until `untilMs` after it: the first time told, or undefined. */
  const run = (b: BorneOut, since: number, gapMs: number, untilMs: number, rate = 100, weighing = () => false) => {
    for (let t = since; t <= since + untilMs; t += gapMs) if (b.acceptedCall(since, t, t, rate, weighing())) return t - since;
    return undefined;
  };

  it('tells once calls went at 0.9 × the estimate for 5 s, and once only per stretch', () => {
    const b = new BorneOut();
    expect(run(b, 1000, 10, 8000)).toBe(5000); // 100/s on an estimate of 100
    expect(run(b, 1000, 10, 8000)).toBeUndefined();
    // A run of 429s (or a pause) begins a new stretch: counted anew, told again.
    expect(run(b, 20_000, 10, 8000)).toBe(5000);
  });

  it('is not told while calls go slower than 0.9 × the estimate, nor while a 429 is being weighed', () => {
    expect(run(new BorneOut(), 0, 12, 20_000)).toBeUndefined(); // 83/s on 100
    expect(run(new BorneOut(), 0, 11, 20_000)).toBe(5005); // 91/s
    let weighingUntil = 6000;
    const b = new BorneOut();
    expect(run(b, 0, 10, 8000, 100, () => weighingUntil-- > 0 && false)).toBe(5000);
    expect(run(new BorneOut(), 0, 10, 8000, 100, () => true)).toBeUndefined();
  });

  it('counts only calls placed in the stretch (a call of the run before, answered late, is not its evidence)', () => {
    const b = new BorneOut();
    for (let i = 0; i < 1000; i++) expect(b.acceptedCall(10_000, 9000, 10_001 + i, 100, false)).toBe(false);
    expect(run(b, 10_000, 20, 8000)).toBeUndefined(); // 50/s of its own
  });
});
