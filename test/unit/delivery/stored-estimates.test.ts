import { STORED_ESTIMATE_MAX_AGE_MS, startFromStoredEstimates, startingEstimate } from '../../../src/delivery/stored-estimates';
import { createLogger } from '../../../src/log';
import type { Store, StoredRateEstimate } from '../../../src/store/store';
import { LogLines } from '../../helpers/app-harness';
import { workerOver } from '../../helpers/worker-parts';

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

/**
 * The line logged for an estimate not started from says why. A store skips a row whose rate is
 * no positive number (sql/rate-estimates.ts), so the store here is a stand-in that returns one:
 * this is the reader's own check, for any store.
 */
describe('why a stored rate estimate is not started from, as logged', () => {
  const now = Date.now();
  const fit: StoredRateEstimate = { rate: 197.5, burst: 19.6, confident: true, pausing: true, source: 'fit', at: now - 60_000 };
  const unused = 'calls to a provider account start unpaced: the rate estimate kept in the store is not used, ';

  async function logged(e: StoredRateEstimate): Promise<string[]> {
    const logs = new LogLines();
    const store = { storedRateEstimates: async () => new Map([['mantago', e]]) } as unknown as Store;
    const worker = workerOver({ queue: [], tagger: { apply: async () => undefined }, concurrency: 1 });
    await startFromStoredEstimates({ store, workers: new Map([['mantago', worker]]), now: () => now, log: createLogger({ level: 'info', stream: logs.stream }), when: 'start' });
    expect(worker.gate.limitEstimate).toBeUndefined();
    return logs.parsed().map((l) => String(l.message));
  }

  it.each([Number.NaN, 0, -5, Number.POSITIVE_INFINITY])('a recent, confident one whose rate is %p: its rate is no positive number, not "older than a day"', async (rate) => {
    expect(await logged({ ...fit, rate })).toEqual([`${unused}its rate (${String(rate)}) is not a positive number`]);
  });

  it('an old one, and one that rests on a few calls only, as before', async () => {
    expect(await logged({ ...fit, at: now - STORED_ESTIMATE_MAX_AGE_MS - 1 })).toEqual([`${unused}it is older than a day`]);
    expect(await logged({ ...fit, confident: false, source: 'halved' })).toEqual([`${unused}it rests on a few calls only`]);
  });
});
