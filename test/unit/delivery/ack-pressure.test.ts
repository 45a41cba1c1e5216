import { ACK_PRESSURE, AckPressure } from '../../../src/delivery/ack-pressure';

/** A pressure gauge on a clock the test moves. */
function gauge() {
  let t = 0;
  const p = new AckPressure({}, () => t);
  return {
    p,
    /** `n` answers of `ms` each, spread over one window, then the window ends. */
    window(n: number, ms: number) {
      for (let i = 0; i < n; i++) {
        p.record(ms);
        t += ACK_PRESSURE.windowMs / (n + 1);
      }
      t = Math.ceil(t / ACK_PRESSURE.windowMs) * ACK_PRESSURE.windowMs;
    },
    idle(ms: number) {
      t += ms;
    },
  };
}

describe('AckPressure: the tag worker gives way to slow webhook answers', () => {
  it('leaves the worker at full speed while answers are quick, however many', () => {
    const g = gauge();
    for (let w = 0; w < 20; w++) g.window(200, ACK_PRESSURE.targetMs - 1);
    expect(g.p.share).toBe(1);
    expect(g.p.scale(32)).toBe(32);
  });

  it('halves the share for every busy window whose 90th percentile is over the target, down to the floor', () => {
    const g = gauge();
    const shares: number[] = [];
    for (let w = 0; w < 8; w++) {
      g.window(50, ACK_PRESSURE.targetMs * 3);
      shares.push(g.p.share);
    }
    expect(shares).toEqual([1 / 2, 1 / 4, 1 / 8, 1 / 16, 1 / 32, 1 / 32, 1 / 32, 1 / 32]);
    // One call in flight at least, whatever the limit.
    expect(g.p.scale(32)).toBe(1);
    expect(g.p.scale(8)).toBe(1);
  });

  it('reads the 90th percentile: a few slow answers among many quick ones do not hold the worker back', () => {
    const g = gauge();
    for (let i = 0; i < 5; i++) g.p.record(500);
    g.window(95, 2);
    expect(g.p.share).toBe(1);
    for (let i = 0; i < 15; i++) g.p.record(500);
    g.window(85, 2);
    expect(g.p.share).toBe(1 / 2);
  });

  it('ignores light traffic: fewer answers than MIN_SAMPLES in a window never hold the worker back', () => {
    const g = gauge();
    for (let w = 0; w < 10; w++) g.window(ACK_PRESSURE.minSamples - 1, 5_000);
    expect(g.p.share).toBe(1);
  });

  it('gives the slots back within a second once the burst is over, with or without traffic', () => {
    const quiet = gauge();
    for (let w = 0; w < 6; w++) quiet.window(50, 100);
    expect(quiet.p.share).toBe(1 / 32);
    quiet.idle(1000);
    expect(quiet.p.share).toBe(1);

    const quick = gauge();
    for (let w = 0; w < 6; w++) quick.window(50, 100);
    const back: number[] = [];
    for (let w = 0; w < 10; w++) {
      quick.window(50, 1);
      back.push(quick.p.share);
    }
    expect(back[0]).toBeCloseTo(1 / 32 + 1 / 8);
    expect(back.indexOf(1)).toBeLessThanOrEqual(8);
  });

  it('counts each window once, however long nobody asked', () => {
    const g = gauge();
    g.window(50, 100);
    expect(g.p.share).toBe(1 / 2);
    // Slow answers in a window that ended long ago count once; the quiet windows after it recover.
    for (let i = 0; i < 50; i++) g.p.record(100);
    g.idle(ACK_PRESSURE.windowMs * 3);
    expect(g.p.share).toBeCloseTo(Math.min(1, 1 / 4 + 2 / 8));
  });
});
