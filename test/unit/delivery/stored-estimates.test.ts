import { STORED_ESTIMATE_MAX_AGE_MS, startingEstimate } from '../../../src/delivery/stored-estimates';
import type { StoredRateEstimate } from '../../../src/store/store';

describe('which stored rate estimate a gate starts from', () => {
  const now = 1_765_000_000_000;
  const fit: StoredRateEstimate = { rate: 197.5, burst: 19.6, confident: true, pausing: true, source: 'fit', at: now - 60_000 };

  it('a recent one that rests on long evidence, with its bucket size and whether 429s paused', () => {
    expect(startingEstimate(fit, now)).toEqual({ rate: 197.5, burst: 19.6, pausing: true });
    expect(startingEstimate({ rate: 80, confident: true, pausing: false, source: 'saturated', at: now }, now)).toEqual({ rate: 80, pausing: false });
  });

  it('up to a day old, not older', () => {
    expect(startingEstimate({ ...fit, at: now - STORED_ESTIMATE_MAX_AGE_MS }, now)).toBeDefined();
    expect(startingEstimate({ ...fit, at: now - STORED_ESTIMATE_MAX_AGE_MS - 1 }, now)).toBeUndefined();
    expect(STORED_ESTIMATE_MAX_AGE_MS).toBe(24 * 3_600_000);
  });

  it('one made "later" by a clock ahead of this one counts as made now', () => {
    expect(startingEstimate({ ...fit, at: now + 5000 }, now)).toEqual({ rate: 197.5, burst: 19.6, pausing: true });
  });

  it('not a first, cautious one, nor one that is no rate at all', () => {
    expect(startingEstimate({ ...fit, confident: false, source: 'halved' }, now)).toBeUndefined();
    expect(startingEstimate({ ...fit, rate: 0 }, now)).toBeUndefined();
    expect(startingEstimate({ ...fit, rate: Number.NaN }, now)).toBeUndefined();
    expect(startingEstimate(undefined, now)).toBeUndefined();
    // A bucket size that is none is left out; the rate still counts.
    expect(startingEstimate({ ...fit, burst: 0 }, now)).toEqual({ rate: 197.5, pausing: true });
  });
});
