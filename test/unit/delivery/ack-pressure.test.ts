import { ACK_PRESSURE, AckPressure } from '../../../src/delivery/ack-pressure';

/** A gauge of answer times on a clock the test moves. */
function gauge() {
  let t = 0;
  const p = new AckPressure(() => t);
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

describe('AckPressure: whether webhook answers are slow under traffic', () => {
  it('is not slow while answers are quick, however many', () => {
    const g = gauge();
    for (let w = 0; w < 10; w++) {
      g.window(300, ACK_PRESSURE.targetMs - 1);
      expect(g.p.slow).toBe(false);
    }
  });

  it('is slow for a busy window whose 90th percentile is over the target, and for holdMs after the last such window', () => {
    const g = gauge();
    g.window(50, ACK_PRESSURE.targetMs * 3);
    expect(g.p.slow).toBe(true);
    g.window(50, ACK_PRESSURE.targetMs * 3);
    expect(g.p.slow).toBe(true);
    // Quick busy windows do not end the hold before holdMs has passed since the last slow one.
    expect(ACK_PRESSURE.holdMs).toBeGreaterThanOrEqual(2 * ACK_PRESSURE.windowMs);
    g.window(50, 2);
    expect(g.p.slow).toBe(true);
    const quickWindowsInHold = ACK_PRESSURE.holdMs / ACK_PRESSURE.windowMs - 2;
    for (let w = 0; w < quickWindowsInHold; w++) {
      g.window(50, 2);
      expect(g.p.slow).toBe(true);
    }
    g.window(50, 2);
    expect(g.p.slow).toBe(false);
  });

  it('starts the hold again at every slow window: a worker released into slow answers is held at once', () => {
    const g = gauge();
    g.window(50, ACK_PRESSURE.targetMs * 3);
    for (let w = 0; w < ACK_PRESSURE.holdMs / ACK_PRESSURE.windowMs - 2; w++) g.window(50, 2);
    g.window(50, ACK_PRESSURE.targetMs * 3);
    expect(g.p.slow).toBe(true);
    // Past the first hold's end, held by the second.
    g.window(50, 2);
    g.window(50, 2);
    expect(g.p.slow).toBe(true);
    for (let w = 0; w < ACK_PRESSURE.holdMs / ACK_PRESSURE.windowMs - 3; w++) {
      g.window(50, 2);
      expect(g.p.slow).toBe(true);
    }
    g.window(50, 2);
    expect(g.p.slow).toBe(false);
  });

  it('ends the hold at once when traffic turns light: a backlog with no webhooks arriving is not held back', () => {
    const g = gauge();
    g.window(50, ACK_PRESSURE.targetMs * 3);
    expect(g.p.slow).toBe(true);
    g.window(ACK_PRESSURE.minSamples - 1, 2);
    expect(g.p.slow).toBe(false);
  });

  it('reads the 90th percentile: a few slow answers among many quick ones are not slow', () => {
    const g = gauge();
    for (let i = 0; i < 5; i++) g.p.record(500);
    g.window(95, 2);
    expect(g.p.slow).toBe(false);
    for (let i = 0; i < 15; i++) g.p.record(500);
    g.window(85, 2);
    expect(g.p.slow).toBe(true);
  });

  it('ignores light traffic: fewer answers than MIN_SAMPLES in a window are never slow', () => {
    const g = gauge();
    g.window(ACK_PRESSURE.minSamples - 1, 5_000);
    expect(g.p.slow).toBe(false);
  });

  it('is not slow once answers stop coming, however long nobody asked', () => {
    const g = gauge();
    g.window(50, 100);
    expect(g.p.slow).toBe(true);
    g.idle(ACK_PRESSURE.windowMs * 5);
    expect(g.p.slow).toBe(false);
  });
});
