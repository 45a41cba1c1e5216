import type { Store } from '../../src/store/store';
import { accepted, askAt, batch, tagOp } from './builders';

/**
 * CONTRACT.md, "Order": per key, the latest event by the platform's event time wins
 * (ties: the one received last), even across retries; an older event changes nothing
 * and shows in the history as superseded. `askAt({ now, at })` is an event of time `at`
 * received at `now`.
 */
export function orderContract(store: () => Store): void {
  const claim = (now: number, owner = 'w', leaseMs = 1000) =>
    store().claimOperations({ scope: { account: 'mantago' }, limit: 10, owner, now, leaseMs });
  const completeAll = async (now: number) => {
    for (const op of await claim(now)) await store().completeOperation(op, 'w', now, { status: 200 });
  };
  const calls = async () => (await store().userHistory('U1')).calls;

  describe('order by event time', () => {
    it('a redelivered older add after a remove changes nothing: no new version, no call, superseded in the history', async () => {
      expect(await askAt(store(), { now: 2100, at: 2000 }, { action: 'remove' })).toBe(1);
      await completeAll(2100);

      expect(await askAt(store(), { now: 3000, at: 1000 }, { action: 'add' })).toBe(0);
      expect(await claim(3000)).toEqual([]);
      expect(await store().nextDueAt('operations')).toBeNull();
      expect(await calls()).toEqual([
        { at: 2100, operation: tagOp({ action: 'remove' }), version: 1, outcome: 'applied', status: 200 },
        { at: 3000, operation: tagOp({ action: 'add' }), version: 0, outcome: 'superseded', cause: 'older_event' },
      ]);
      // The event itself is in the history as usual.
      expect((await store().userHistory('U1')).events).toHaveLength(2);
    });

    it('an older event changes nothing while the newer one is still pending', async () => {
      await askAt(store(), { now: 2100, at: 2000 }, { action: 'remove' });
      expect(await askAt(store(), { now: 2200, at: 1000 }, { action: 'add' })).toBe(0);
      const [op] = await claim(2200);
      expect(op).toMatchObject({ action: 'remove', version: 1, requestedAt: 2100 });
    });

    it('a remove newer than a failing add is what gets applied, and a late copy of the add cannot bring it back', async () => {
      await askAt(store(), { now: 1100, at: 1000 }, { action: 'add' });
      const [add] = await claim(1100, 'w', 10_000);
      await store().retryOperation(add!, 'w', 1200, { dueAt: 5000, status: 500, error: 'HTTP 500' });

      expect(await askAt(store(), { now: 1500, at: 2000 }, { action: 'remove' })).toBe(1);
      const [remove] = await claim(1500);
      expect(remove).toMatchObject({ id: add!.id, action: 'remove', version: 2, attempts: 0, requestedAt: 1500 });
      expect(await store().completeOperation(remove!, 'w', 1600, { status: 200 })).toBe(true);

      expect(await askAt(store(), { now: 1700, at: 1000 }, { action: 'add' })).toBe(0);
      expect(await claim(99_999)).toEqual([]);
      expect((await calls()).map((c) => [c.operation.action, c.outcome])).toEqual([
        ['add', 'retry'],
        ['remove', 'applied'],
        ['add', 'superseded'],
      ]);
    });

    it('a remove newer than an add in flight wins when the add settles', async () => {
      await askAt(store(), { now: 1100, at: 1000 }, { action: 'add' });
      const [add] = await claim(1100, 'A', 10_000);
      expect(await askAt(store(), { now: 1200, at: 2000 }, { action: 'remove' })).toBe(1);
      await store().retryOperation(add!, 'A', 1300, { dueAt: 9000, status: 503 });
      const [remove] = await claim(1300, 'B');
      expect(remove).toMatchObject({ action: 'remove', version: 2 });
    });

    it('equal event times: the event received last wins', async () => {
      await askAt(store(), { now: 1000, at: 500 }, { action: 'add' });
      expect(await askAt(store(), { now: 1100, at: 500 }, { action: 'remove' })).toBe(1);
      expect(await claim(1100)).toEqual([expect.objectContaining({ action: 'remove', version: 2 })]);
      expect(await askAt(store(), { now: 1200, at: 500 }, { action: 'add' })).toBe(1);
      await store().releaseAllLeases();
      expect(await claim(1200)).toEqual([expect.objectContaining({ action: 'add', version: 3 })]);
    });

    it('an event time in the future counts as its receipt', async () => {
      await askAt(store(), { now: 1000, at: 999_999 }, { action: 'add' });
      // Later than the add's receipt, though earlier than its claimed time: it wins.
      expect(await askAt(store(), { now: 2000, at: 1500 }, { action: 'remove' })).toBe(1);
      expect(await claim(2000)).toEqual([expect.objectContaining({ action: 'remove', version: 2 })]);
    });

    it('a later event with the same action keeps its time, so an event between the two cannot undo it', async () => {
      await askAt(store(), { now: 1000, at: 1000 }, { action: 'add' });
      await completeAll(1000);
      expect(await askAt(store(), { now: 3000, at: 3000 }, { action: 'add' })).toBe(0); // nothing to call
      expect(await askAt(store(), { now: 3500, at: 2000 }, { action: 'remove' })).toBe(0);
      expect(await claim(3500)).toEqual([]);
      expect((await calls()).map((c) => c.outcome)).toEqual(['applied', 'superseded']);
    });

    it('writes a dead letter over with a newer event only', async () => {
      await askAt(store(), { now: 2000, at: 2000 }, { action: 'add' });
      const [op] = await claim(2000);
      await store().deadLetterOperation(op!, 'w', 2100, { reason: '400 from mantago', status: 400 });
      expect(await askAt(store(), { now: 2200, at: 1000 }, { action: 'remove' })).toBe(0);
      expect(await store().listDeadLetters()).toHaveLength(1);
      expect(await askAt(store(), { now: 2300, at: 2300 }, { action: 'remove' })).toBe(1);
      expect(await store().listDeadLetters()).toEqual([]);
    });

    describe('in one shared commit', () => {
      const together = (...events: { now: number; at: number; action: 'add' | 'remove'; id: string }[]) =>
        Promise.all(
          events.map((e) => store().accept(batch(e.now, [accepted(e.id, [tagOp({ action: e.action })], { event: { timestamp: e.at } })]))),
        );

      it('an older event after a newer one for the same key is superseded, whatever the order of arrival', async () => {
        const results = await together(
          { now: 2000, at: 2000, action: 'remove', id: 'new' },
          { now: 2001, at: 1000, action: 'add', id: 'old' },
        );
        expect(results.map((r) => r.operationsQueued)).toEqual([1, 0]);
        expect(await claim(3000)).toEqual([expect.objectContaining({ action: 'remove', version: 1 })]);
        expect((await calls()).map((c) => [c.operation.action, c.outcome, c.cause])).toEqual([['add', 'superseded', 'older_event']]);
      });

      it('the same action at an older time after a newer one: the newer time stays', async () => {
        await together({ now: 2000, at: 2000, action: 'add', id: 'new' }, { now: 2001, at: 1000, action: 'add', id: 'old' });
        // Had the older time been kept, this remove would win.
        expect(await askAt(store(), { now: 3000, at: 1500 }, { action: 'remove' })).toBe(0);
        expect(await claim(3000)).toEqual([expect.objectContaining({ action: 'add', version: 1 })]);
      });

      it('a row set by a later event leaves every request of the commit superseded', async () => {
        await askAt(store(), { now: 500, at: 5000 }, { action: 'remove' }); // counts as 500
        await askAt(store(), { now: 600, at: 600 }, { action: 'remove' });
        await together({ now: 700, at: 550, action: 'add', id: 'a' }, { now: 701, at: 550, action: 'add', id: 'b' });
        expect((await calls()).map((c) => [c.operation.action, c.outcome])).toEqual([
          ['add', 'superseded'],
          ['add', 'superseded'],
        ]);
        expect(await claim(800)).toEqual([expect.objectContaining({ action: 'remove', version: 1 })]);
      });
    });
  });
  describe('the key is the person as the provider identifies them', () => {
    // Two LINE channels of one bot (two destinations) tagging into one MantaGo account.
    const viaA = { recipient: 'UdestA', channel: 'la' };
    const viaB = { recipient: 'UdestB', channel: 'lb' };

    it('MantaGo: an older event written to another recipient is superseded and queues nothing', async () => {
      expect(await askAt(store(), { now: 2100, at: 2000 }, { action: 'remove', ...viaB })).toBe(1);
      expect(await askAt(store(), { now: 2200, at: 1000 }, { action: 'add', ...viaA })).toBe(0);
      expect(await claim(2200)).toEqual([expect.objectContaining({ action: 'remove', version: 1, ...viaB })]);
      expect(await calls()).toEqual([
        { at: 2200, operation: tagOp({ action: 'add', ...viaA }), version: 0, outcome: 'superseded', cause: 'older_event' },
      ]);
    });

    it('MantaGo: a newer event written to another recipient wins, and the row takes its recipient and channel', async () => {
      expect(await askAt(store(), { now: 2100, at: 2000 }, { action: 'remove', ...viaB })).toBe(1);
      await completeAll(2100);
      expect(await askAt(store(), { now: 3000, at: 3000 }, { action: 'add', ...viaA })).toBe(1);
      expect(await claim(3000)).toEqual([expect.objectContaining({ action: 'add', version: 2, ...viaA })]);
    });

    it('MantaGo: in one shared commit, the older event from the other recipient is superseded', async () => {
      const results = await Promise.all([
        store().accept(batch(2000, [accepted('via-b', [tagOp({ action: 'remove', ...viaB })], { event: { timestamp: 2000, ...viaB } })])),
        store().accept(batch(2001, [accepted('via-a', [tagOp({ action: 'add', ...viaA })], { event: { timestamp: 1000, ...viaA } })])),
      ]);
      expect(results.map((r) => r.operationsQueued)).toEqual([1, 0]);
      expect(await claim(3000)).toEqual([expect.objectContaining({ action: 'remove', version: 1, ...viaB })]);
      expect((await calls()).map((c) => [c.operation.action, c.outcome, c.cause])).toEqual([['add', 'superseded', 'older_event']]);
    });

    it('MantaGo: two events of one time through two recipients in one commit leave the row with the one applied last', async () => {
      const via = (id: string, over: typeof viaA) => accepted(id, [tagOp({ action: 'add', ...over })], { event: { timestamp: 1000, ...over } });
      expect((await store().accept(batch(2000, [via('via-a', viaA), via('via-b', viaB)]))).operationsQueued).toBe(1);
      expect(await claim(2000)).toEqual([expect.objectContaining({ action: 'add', version: 1, ...viaB })]);
    });

    it('BotBonnie: the same user of two Facebook pages is two people (bot_pid is the page id)', async () => {
      const bb = { provider: 'botbonnie', platform: 'facebook' } as const;
      expect(await askAt(store(), { now: 2100, at: 2000 }, { action: 'remove', ...bb, recipient: 'P1' })).toBe(1);
      expect(await askAt(store(), { now: 2200, at: 1000 }, { action: 'add', ...bb, recipient: 'P2' })).toBe(1);
      const ops = await store().claimOperations({ scope: { account: 'botbonnie' }, limit: 10, owner: 'w', now: 2200, leaseMs: 1000 });
      expect(ops.map((o) => [o.action, o.recipient]).sort()).toEqual([
        ['add', 'P2'],
        ['remove', 'P1'],
      ]);
      expect(await calls()).toEqual([]);
    });
  });
}
