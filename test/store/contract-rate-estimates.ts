import type { Store, StoredRateEstimate } from '../../src/store/store';

/**
 * Rate estimates kept in the store (Store.keepRateEstimate): a rate gate started later — after a
 * restart, or on the instance that takes an account's caller role over — starts from its
 * account's latest one.
 */
export function rateEstimatesContract(store: () => Store, restart: () => Promise<void>): void {
  describe('account rate estimates', () => {
    const fit: StoredRateEstimate = { rate: 197.61834529, burst: 19.5, confident: true, pausing: true, source: 'fit', at: 1_765_000_000_123 };

    it('keeps each account\'s estimate as it was, across a restart', async () => {
      expect(await store().storedRateEstimates()).toEqual(new Map());
      await store().keepRateEstimate('brand-a', fit);
      await store().keepRateEstimate('mantago', { rate: 12.5, confident: false, pausing: false, source: 'halved', at: 1_765_000_000_200.7 });
      await restart();
      expect(await store().storedRateEstimates()).toEqual(
        new Map([
          ['brand-a', fit],
          // No bucket size: none is kept; times in whole milliseconds.
          ['mantago', { rate: 12.5, confident: false, pausing: false, source: 'halved', at: 1_765_000_000_200 }],
        ]),
      );
    });

    it('a later estimate replaces the one kept, an earlier one (written late) does not', async () => {
      await store().keepRateEstimate('brand-a', fit);
      const lower = { rate: 180, burst: 19.5, confident: true, pausing: true, source: 'decreased', at: fit.at + 5000 };
      await store().keepRateEstimate('brand-a', lower);
      await store().keepRateEstimate('brand-a', { ...fit, at: fit.at + 1000 });
      expect((await store().storedRateEstimates()).get('brand-a')).toEqual(lower);
      // Without a bucket size now: the one kept before goes with the estimate it belonged to.
      const saturated = { rate: 201, confident: true, pausing: false, source: 'saturated', at: fit.at + 6000 };
      await store().keepRateEstimate('brand-a', saturated);
      expect((await store().storedRateEstimates()).get('brand-a')).toEqual(saturated);
    });
  });
}
