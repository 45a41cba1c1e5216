import type { Store } from '../../src/store/store';
import { batch, forwardTo } from './builders';

/** Forwards of one key under two leases at once: one ended unsettled, the other still held. */
export function forwardLeasesContract(store: () => Store): void {
  const A = 'http://a.test/hook';
  const claim = (now: number, leaseMs: number) => store().claimForwards({ owner: 'w', now, limit: 10, leaseMs, destinations: [A] });
  const receive = (now: number, body: string) => store().accept(batch(now, [], [forwardTo(A, 'U1', Buffer.from(body))]));

  describe('forward leases', () => {
    it('tells the next due time of a key leased twice as the end of the lease that holds it, not of the one that ended', async () => {
      await receive(1000, 'w1');
      await receive(1001, 'w2');
      const [w1] = await claim(1000, 1000);
      await store().deadLetterForward(w1!, 'w', 1500, { reason: 'gave up' });
      expect((await claim(1500, 1000)).map((f) => f.body.toString())).toEqual(['w2']);
      expect(await store().retryDeadLetters([`fwd-${w1!.id}`], 1600)).toBe(1);
      // w2's lease ends unsettled at 2500 and w1 goes, leased until 12,500: nothing of the key can go before.
      expect((await claim(2500, 10_000)).map((f) => f.body.toString())).toEqual(['w1']);
      expect(await store().nextDueAt('forwards', A)).toBe(12_500);
      expect(await store().nextDueAt('forwards')).toBe(12_500);
      expect(await claim(12_499, 10_000)).toEqual([]);
      // When w1's lease ends unsettled too, w1 goes again (its key's head), and w2 still waits.
      expect((await claim(12_500, 10_000)).map((f) => f.body.toString())).toEqual(['w1']);
      expect(await store().nextDueAt('forwards', A)).toBe(22_500);
    });
  });
}
