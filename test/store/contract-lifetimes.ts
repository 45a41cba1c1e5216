import type { Store } from '../../src/store/store';
import { accepted, askAt, batch, lifetime, tagOp } from './builders';

/**
 * CONTRACT.md, "Lifetimes": an add with `for:` is followed by a remove at event time +
 * lifetime — an event of its own at that time — unless a later event changed the state
 * first. The clock is the `now` each call is given.
 */
export function lifetimesContract(store: () => Store, restart: () => Promise<void>): void {
  const claim = (now: number, owner = 'w', leaseMs = 1000) =>
    store().claimOperations({ scope: { account: 'mantago' }, limit: 10, owner, now, leaseMs });
  const completeAll = async (now: number, owner = 'w') => {
    const claimed = await claim(now, owner);
    for (const op of claimed) await store().completeOperation(op, owner, now, { status: 200 });
    return claimed;
  };
  const history = () => store().userHistory('U1');
  const addFor = (ms: number, rule = 'trial') => ({ action: 'add' as const, lifetime: lifetime(ms, rule) });

  describe('lifetimes', () => {
    it('removes the tag at event time + lifetime, as a new version due then, and says so in the history', async () => {
      expect(await askAt(store(), { now: 1500, at: 1000 }, addFor(5000))).toBe(1);
      expect(await completeAll(1500)).toEqual([expect.objectContaining({ action: 'add', version: 1 })]);
      expect(await store().nextDueAt('operations')).toBe(6000);
      expect(await store().nextDueAt('operations', 'mantago')).toBe(6000);
      expect(await store().nextDueAt('operations', 'botbonnie')).toBeNull();
      expect((await history()).expiring).toEqual([{ operation: tagOp(), expiresAt: 6000, rule: 'trial' }]);

      expect(await claim(5999)).toEqual([]);
      const [removal] = await claim(6000);
      // Its give-up window runs from its due time.
      expect(removal).toMatchObject({ action: 'remove', version: 2, attempts: 0, requestedAt: 6000 });
      expect(await store().completeOperation(removal!, 'w', 6100, { status: 200 })).toBe(true);

      const h = await history();
      expect(h.expiring).toEqual([]);
      expect(h.calls).toEqual([
        { at: 1500, operation: tagOp(), version: 1, outcome: 'applied', status: 200 },
        { at: 6000, operation: tagOp({ action: 'remove' }), version: 2, outcome: 'expired', cause: 'lifetime_ended', rule: 'trial' },
        { at: 6100, operation: tagOp({ action: 'remove' }), version: 2, outcome: 'applied', status: 200 },
      ]);
      expect(await store().nextDueAt('operations')).toBeNull();
    });

    it('a later add with for: moves the removal to its own time plus its lifetime, without a call', async () => {
      await askAt(store(), { now: 1000, at: 1000 }, addFor(5000));
      await completeAll(1000);
      expect(await askAt(store(), { now: 2500, at: 2000 }, addFor(5000, 'again'))).toBe(1); // the removal moved
      expect(await claim(2500)).toEqual([]);
      expect(await store().nextDueAt('operations')).toBe(7000);
      expect(await claim(6000)).toEqual([]);
      expect(await claim(7000)).toEqual([expect.objectContaining({ action: 'remove', version: 2, requestedAt: 7000 })]);
      expect((await history()).calls.find((c) => c.outcome === 'expired')).toMatchObject({ at: 7000, rule: 'again' });
    });

    it('a later add with a shorter for: moves the removal earlier', async () => {
      await askAt(store(), { now: 1000, at: 1000 }, addFor(10_000));
      await completeAll(1000);
      expect(await askAt(store(), { now: 2000, at: 2000 }, addFor(1000))).toBe(1);
      expect(await store().nextDueAt('operations')).toBe(3000);
      expect(await claim(3000)).toEqual([expect.objectContaining({ action: 'remove', version: 2 })]);
    });

    it('a later add without for: keeps the tag for good', async () => {
      await askAt(store(), { now: 1000, at: 1000 }, addFor(5000));
      await completeAll(1000);
      expect(await askAt(store(), { now: 2000, at: 2000 }, { action: 'add' })).toBe(1);
      expect(await store().nextDueAt('operations')).toBeNull();
      expect(await claim(999_999)).toEqual([]);
      expect((await history()).expiring).toEqual([]);
    });

    it('a later remove removes the tag at once, and no second removal follows', async () => {
      await askAt(store(), { now: 1000, at: 1000 }, addFor(5000));
      await completeAll(1000);
      expect(await askAt(store(), { now: 2000, at: 2000 }, { action: 'remove' })).toBe(1);
      expect(await completeAll(2000)).toEqual([expect.objectContaining({ action: 'remove', version: 2 })]);
      expect(await claim(999_999)).toEqual([]);
      expect((await history()).calls.map((c) => c.outcome)).toEqual(['applied', 'applied']);
    });

    it('an event older than the one that set the lifetime changes nothing, even after the lifetime ended', async () => {
      await askAt(store(), { now: 1000, at: 1000 }, addFor(5000));
      await completeAll(1000);
      expect(await askAt(store(), { now: 7000, at: 900 }, { action: 'add' })).toBe(0);
      expect(await claim(7000)).toEqual([expect.objectContaining({ action: 'remove', version: 2, requestedAt: 6000 })]);
    });

    it('a later event that arrives after the lifetime ended still decides, as if it had come in time (before the removal is made)', async () => {
      await askAt(store(), { now: 1000, at: 1000 }, addFor(5000));
      await completeAll(1000);
      // At 7000 the lifetime (ended 6000) is not removed yet; an add of time 5000 moves the end to 10_000.
      expect(await askAt(store(), { now: 7000, at: 5000 }, addFor(5000, 'again'))).toBe(1);
      expect(await claim(7000)).toEqual([]);
      expect(await store().nextDueAt('operations')).toBe(10_000);
      expect(await claim(10_000)).toEqual([expect.objectContaining({ action: 'remove', version: 2, requestedAt: 10_000 })]);
    });

    it('a later add without for: that arrives after the removal was made puts the tag back for good', async () => {
      await askAt(store(), { now: 1000, at: 1000 }, addFor(5000));
      await completeAll(1000);
      expect(await completeAll(6000)).toEqual([expect.objectContaining({ action: 'remove', version: 2 })]);
      // Redelivered at 8000: an event of time 3000, later than the one that set the lifetime.
      expect(await askAt(store(), { now: 8000, at: 3000 }, { action: 'add' })).toBe(1);
      expect(await completeAll(8000)).toEqual([expect.objectContaining({ action: 'add', version: 3 })]);
      expect(await claim(999_999)).toEqual([]);
      expect((await history()).calls.map((c) => [c.operation.action, c.outcome])).toEqual([
        ['add', 'applied'],
        ['remove', 'expired'],
        ['remove', 'applied'],
        ['add', 'applied'],
      ]);
    });

    it('an add whose lifetime ran out before it arrived changes nothing and is recorded as expired', async () => {
      await askAt(store(), { now: 500, at: 500 }, { action: 'remove' });
      await completeAll(500);
      expect(await askAt(store(), { now: 10_000, at: 1000 }, addFor(5000, 'late'))).toBe(0);
      expect(await claim(10_000)).toEqual([]);
      const h = await history();
      expect(h.events).toHaveLength(2);
      expect(h.calls.at(-1)).toEqual({
        at: 10_000,
        operation: tagOp(addFor(5000, 'late')),
        version: 0,
        outcome: 'expired',
        cause: 'arrived_expired',
        rule: 'late',
      });
      // On a key the store never saw, it creates nothing either.
      expect(await askAt(store(), { now: 10_000, at: 1000 }, { ...addFor(5000), tagId: 'fresh' })).toBe(0);
      expect(await store().nextDueAt('operations')).toBeNull();
    });

    it('ends the lifetime while the add is leased: the leaseholder sees the version moved', async () => {
      await askAt(store(), { now: 1000, at: 1000 }, addFor(1000));
      const [add] = await claim(1000, 'A', 10_000);
      expect(await claim(2000, 'B')).toEqual([]); // the removal is there, but A still holds the row
      expect(await store().completeOperation(add!, 'A', 2100, { status: 200 })).toBe(false);
      const [removal] = await claim(2100, 'B');
      expect(removal).toMatchObject({ id: add!.id, action: 'remove', version: 2, requestedAt: 2000 });
      expect((await history()).calls.map((c) => [c.operation.action, c.version, c.outcome])).toEqual([
        ['remove', 2, 'expired'],
        ['add', 1, 'applied'],
      ]);
    });

    it('keeps a pending removal across a restart, and makes it when the store is next asked after its time', async () => {
      await askAt(store(), { now: 1000, at: 1000 }, addFor(5000));
      await completeAll(1000);
      await restart();
      expect(await store().nextDueAt('operations')).toBe(6000);
      expect((await history()).expiring).toEqual([expect.objectContaining({ expiresAt: 6000 })]);
      await restart();
      // Stopped at the due time: made at the next start, still as of its due time.
      expect(await claim(50_000)).toEqual([expect.objectContaining({ action: 'remove', version: 2, requestedAt: 6000 })]);
    });

    it('counts a lifetime that ended but is not removed yet as pending and due in the status (service stopped at the due time)', async () => {
      await askAt(store(), { now: 1000, at: 1000 }, addFor(5000));
      await completeAll(1000);
      expect((await store().status(5999)).operations).toMatchObject({ pending: 0, due: 0 });
      // Until then it is a lifetime running, with its end.
      expect((await store().status(5999)).lifetimes).toEqual({ running: 1, nextEndAt: 6000 });
      await restart();
      // Nobody claimed since 6000: the removal is owed, and status says so.
      const s = await store().status(9000);
      expect(s.operations).toMatchObject({ pending: 1, due: 1, leased: 0, dead: 0, oldestPendingAgeMs: 3000 });
      expect(s.accounts).toEqual([expect.objectContaining({ account: 'mantago', operations: expect.objectContaining({ pending: 1, due: 1 }) })]);
      expect(s.lifetimes).toEqual({ running: 0, nextEndAt: null });
    });

    it('counts the lifetimes running and says when the first ends, whatever state the add is in', async () => {
      expect((await store().status(1000)).lifetimes).toEqual({ running: 0, nextEndAt: null });
      await askAt(store(), { now: 1000, at: 1000 }, { ...addFor(9000), tagId: 'applied' });
      await completeAll(1000);
      // Not sent yet, and its lifetime already running: it ends first.
      await askAt(store(), { now: 2000, at: 2000 }, { ...addFor(5000), tagId: 'queued' });
      expect((await store().status(2000)).lifetimes).toEqual({ running: 2, nextEndAt: 7000 });
      // A later add without for: keeps the tag for good: no lifetime runs for it any more.
      await askAt(store(), { now: 3000, at: 3000 }, { action: 'add', tagId: 'queued' });
      expect((await store().status(3000)).lifetimes).toEqual({ running: 1, nextEndAt: 10_000 });
    });

    it('ends a lifetime once, however often the store is asked', async () => {
      await askAt(store(), { now: 1000, at: 1000 }, addFor(1000));
      await completeAll(1000);
      await Promise.all([claim(2000, 'A'), claim(2000, 'B'), claim(2001, 'C')]);
      await claim(3000, 'D');
      const h = await history();
      expect(h.calls.filter((c) => c.outcome === 'expired')).toHaveLength(1);
    });

    it('writes lifetimes from a shared commit, one key or several', async () => {
      const results = await Promise.all([
        store().accept(batch(1000, [accepted('e1', [tagOp(addFor(5000)), tagOp({ ...addFor(3000), tagId: 'other' })], { event: { timestamp: 1000 } })])),
        store().accept(batch(1001, [accepted('e2', [tagOp(addFor(5000))], { event: { timestamp: 1000 } })])), // the same request again
      ]);
      expect(results.map((r) => r.operationsQueued)).toEqual([2, 0]);
      expect((await history()).expiring.map((x) => [x.operation.tagId, x.expiresAt])).toEqual([['other', 4000], ['tag-1', 6000]]);
    });
  });
}
