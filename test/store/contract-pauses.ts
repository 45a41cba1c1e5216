import type { Store } from '../../src/store/store';

/**
 * Retry-After pauses kept in the store (CONTRACT.md "Retries": a `Retry-After` pauses calls to
 * that provider account until then): an instance that starts during one — or the process that
 * met it, restarted — reads it and waits too.
 */
export function pausesContract(store: () => Store, restart: () => Promise<void>): void {
  describe('account pauses', () => {
    it('keeps a pause until its end, across a restart, and forgets it once it has ended', async () => {
      await store().sharePause('brand-a', 4000, 1000);
      await store().sharePause('mantago', 2500.2, 1000.7);
      await restart();
      expect(await store().storedPauses(1000)).toEqual(new Map([['brand-a', 4000], ['mantago', 2501]]));
      expect(await store().storedPauses(2500)).toEqual(new Map([['brand-a', 4000], ['mantago', 2501]]));
      // Ended: not paused any more, whoever reads it.
      expect(await store().storedPauses(2501)).toEqual(new Map([['brand-a', 4000]]));
      expect(await store().storedPauses(4000)).toEqual(new Map());
    });

    it('keeps the later end of two pauses of one account, whichever came last', async () => {
      await store().sharePause('brand-a', 5000, 1000);
      await store().sharePause('brand-a', 3000, 2000);
      expect(await store().storedPauses(2000)).toEqual(new Map([['brand-a', 5000]]));
      await store().sharePause('brand-a', 7000, 2000);
      expect(await store().storedPauses(2000)).toEqual(new Map([['brand-a', 7000]]));
    });

    it('a pause that ended is replaced by a new one, and removed when another account pauses', async () => {
      await store().sharePause('brand-a', 2000, 1000);
      await store().sharePause('brand-a', 9000, 8000);
      expect(await store().storedPauses(8000)).toEqual(new Map([['brand-a', 9000]]));
      await store().sharePause('brand-b', 3000, 1000);
      // brand-b's ended by 10000, when brand-c paused: nothing of it is left, even to a reader whose clock is behind.
      await store().sharePause('brand-c', 12_000, 10_000);
      expect(await store().storedPauses(0)).toEqual(new Map([['brand-c', 12_000]]));
    });
  });
}
