import type { ActivityCount, Store } from '../../src/store/store';
import { accepted, batch, tagOp } from './builders';

const MIN = 60_000;
/** A minute start well after the epoch, so "the minute before" is a real minute. */
const T = 1_700_000_040_000 - (1_700_000_040_000 % MIN);

/** The counts as `series/key@minute offset → count`, easy to compare whole. */
function table(rows: ActivityCount[]): Record<string, number> {
  return Object.fromEntries(rows.map((r) => [`${r.series}/${r.key}@${(r.minute - T) / MIN}`, r.count]));
}

export function activityContract(store: () => Store): void {
  const claim = (now: number, account = 'mantago') => store().claimOperations({ scope: { account }, limit: 10, owner: 'w', now, leaseMs: 10_000 });

  describe('per-minute activity (the /admin charts)', () => {
    it('counts webhooks by platform and the rules their new events matched, per minute; a redelivery counts as a webhook only', async () => {
      await store().accept(batch(T + 1000, [accepted('a1', [], { matched: ['coupon'] }), accepted('a2', [], { matched: ['coupon', 'vip'] })]));
      await store().accept(batch(T + 2000, [accepted('f1', [], { event: { platform: 'facebook', channel: 'facebook' }, matched: [] })]));
      // The same LINE webhook again: a webhook received, but its events were seen (no new matches).
      await store().accept(batch(T + 3000, [accepted('a1', [], { matched: ['coupon'] }), accepted('a2', [], { matched: ['coupon', 'vip'] })]));
      await store().accept(batch(T + MIN + 5, [accepted('a3', [], { matched: ['vip'] })]));
      // No events (LINE's verification webhook): not counted.
      await store().accept(batch(T + MIN + 6, []));

      expect(table(await store().activity(T))).toEqual({
        'webhook/line@0': 2,
        'webhook/facebook@0': 1,
        'rule/coupon@0': 2,
        'rule/vip@0': 1,
        'webhook/line@1': 1,
        'rule/vip@1': 1,
      });
      // From a time inside the second minute: that minute whole, not the first.
      expect(table(await store().activity(T + MIN + 30_000))).toEqual({ 'webhook/line@1': 1, 'rule/vip@1': 1 });
    });

    it('an event repeated within one webhook matches once', async () => {
      await store().accept(batch(T, [accepted('r1', [], { matched: ['coupon'] }), accepted('r1', [], { matched: ['coupon'] })]));
      expect(table(await store().activity(T))).toEqual({ 'webhook/line@0': 1, 'rule/coupon@0': 1 });
    });

    it('a webhook with one event seen before and one new counts the new one\'s matches', async () => {
      await store().accept(batch(T, [accepted('p1', [], { matched: ['coupon'] })]));
      await store().accept(batch(T + 1000, [accepted('p1', [], { matched: ['coupon'] }), accepted('p2', [], { matched: ['vip'] })]));
      expect(table(await store().activity(T))).toEqual({ 'webhook/line@0': 2, 'rule/coupon@0': 1, 'rule/vip@0': 1 });
    });

    it('counts tag calls by outcome and the 429s by account', async () => {
      await store().accept(batch(T, [accepted('c1', [tagOp({ tagId: 'ok' }), tagOp({ tagId: 'slow' }), tagOp({ tagId: 'bad' })], { matched: [] })]));
      for (const op of await claim(T + 10)) {
        if (op.tagId === 'ok') await store().completeOperation(op, 'w', T + 20, { status: 200 });
        if (op.tagId === 'slow') await store().retryOperation(op, 'w', T + 20, { dueAt: T + 30, status: 429 });
        if (op.tagId === 'bad') await store().deadLetterOperation(op, 'w', T + MIN, { reason: '400 from mantago', status: 400 });
      }
      const [slow] = await claim(T + MIN + 40);
      expect(slow?.tagId).toBe('slow');
      await store().completeOperation(slow!, 'w', T + MIN + 50, { status: 200 });
      expect(table(await store().activity(T))).toEqual({
        'webhook/line@0': 1,
        'call/applied@0': 1,
        'call/retry@0': 1,
        'throttled/mantago@0': 1,
        'call/dead@1': 1,
        'call/applied@1': 1,
      });
    });

    it('a settle of a row this owner no longer holds counts nothing', async () => {
      await store().accept(batch(T, [accepted('l1', [tagOp()], { matched: [] })]));
      const [op] = await claim(T + 1);
      await store().completeOperation({ ...op!, id: op!.id + 1000 }, 'w', T + 2, { status: 200 });
      expect(table(await store().activity(T))).toEqual({ 'webhook/line@0': 1 });
    });

    it('is pruned with the history', async () => {
      await store().accept(batch(T, [accepted('p1', [], { matched: ['coupon'] })]));
      await store().accept(batch(T + 2 * MIN, [accepted('p2', [], { matched: ['coupon'] })]));
      expect(Object.keys(table(await store().activity(0)))).toHaveLength(4);
      await store().prune({ historyBefore: T + MIN, seenBefore: 0 });
      expect(table(await store().activity(0))).toEqual({ 'webhook/line@2': 1, 'rule/coupon@2': 1 });
    });
  });
}
