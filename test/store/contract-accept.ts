import type { Store, WorkKind } from '../../src/store/store';
import { accepted, ask, batch, forwardTo, tagOp } from './builders';

export function acceptContract(store: () => Store): void {
  describe('accept', () => {
    it('counts new events, duplicates, queued operations and forwards', async () => {
      const r = await store().accept(
        batch(1000, [accepted('e1', [tagOp({ tagId: 'a' })]), accepted('e2', [tagOp({ tagId: 'b' }), tagOp({ tagId: 'c', action: 'remove' })])], [
          forwardTo('http://one.test/hook'),
          forwardTo('http://two.test/hook'),
        ]),
      );
      expect(r).toEqual({ accepted: 2, newEvents: [0, 1], duplicates: 0, operationsQueued: 3, forwardsQueued: 2 });
      const s = await store().status(1000);
      expect(s.operations).toMatchObject({ pending: 3, due: 3, leased: 0, dead: 0 });
      expect(s.forwards).toMatchObject({ pending: 2, due: 2 });
    });

    it('skips an event id seen before: no operations, no history — but the webhook is forwarded again', async () => {
      await store().accept(batch(1000, [accepted('e1', [tagOp({ tagId: 'a' })])], [forwardTo('http://one.test/hook')]));
      const again = await store().accept(batch(2000, [accepted('e1', [tagOp({ tagId: 'b' })])], [forwardTo('http://one.test/hook')]));
      expect(again).toEqual({ accepted: 0, newEvents: [], duplicates: 1, operationsQueued: 0, forwardsQueued: 1 });

      const claimed = await store().claimOperations({ scope: { account: 'mantago' }, limit: 10, owner: 'w', now: 3000, leaseMs: 1000 });
      expect(claimed.map((c) => c.tagId)).toEqual(['a']);
      expect((await store().userHistory('U1')).events).toHaveLength(1);
      expect((await store().status(3000)).forwards.pending).toBe(2);
    });

    it('treats a repeated event id within one webhook as a duplicate', async () => {
      const r = await store().accept(batch(1000, [accepted('e1', [tagOp({ tagId: 'a' })]), accepted('e1', [tagOp({ tagId: 'b' })])]));
      expect(r).toMatchObject({ accepted: 1, duplicates: 1, operationsQueued: 1 });
    });

    it('coalesces: ten identical requests make one row and one claim', async () => {
      const queued: number[] = [];
      for (let i = 0; i < 10; i++) queued.push(await ask(store(), 1000 + i));
      expect(queued).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
      const claimed = await store().claimOperations({ scope: { account: 'mantago' }, limit: 10, owner: 'w', now: 5000, leaseMs: 1000 });
      expect(claimed).toHaveLength(1);
      expect(claimed[0]).toMatchObject({ action: 'add', version: 1, attempts: 0, requestedAt: 1000 });
    });

    it('leaves a done row alone when the same action is asked again, and queues a new version for the other action', async () => {
      await ask(store(), 1000);
      const [op] = await store().claimOperations({ scope: { account: 'mantago' }, limit: 1, owner: 'w', now: 1000, leaseMs: 1000 });
      expect(await store().completeOperation(op!, 'w', 1100, { status: 200 })).toBe(true);

      expect(await ask(store(), 2000)).toBe(0);
      expect(await store().claimOperations({ scope: { account: 'mantago' }, limit: 1, owner: 'w', now: 2000, leaseMs: 1000 })).toEqual([]);

      expect(await ask(store(), 3000, { action: 'remove' })).toBe(1);
      const [next] = await store().claimOperations({ scope: { account: 'mantago' }, limit: 1, owner: 'w', now: 3000, leaseMs: 1000 });
      expect(next).toMatchObject({ id: op!.id, action: 'remove', version: 2, attempts: 0, notFoundCount: 0, requestedAt: 3000 });
    });

    it('leaves a leased row alone when the same action is asked again', async () => {
      await ask(store(), 1000);
      const [op] = await store().claimOperations({ scope: { account: 'mantago' }, limit: 1, owner: 'w', now: 1000, leaseMs: 5000 });
      expect(await ask(store(), 1500)).toBe(0);
      expect(await store().completeOperation(op!, 'w', 2000, { status: 200 })).toBe(true);
      expect((await store().status(2000)).operations).toMatchObject({ pending: 0, leased: 0 });
    });

    it('writes the newest desired state over a dead letter, even for the same action', async () => {
      await ask(store(), 1000);
      const [op] = await store().claimOperations({ scope: { account: 'mantago' }, limit: 1, owner: 'w', now: 1000, leaseMs: 1000 });
      await store().deadLetterOperation(op!, 'w', 1100, { reason: '400 from mantago: tag not found', status: 400 });
      expect(await store().listDeadLetters()).toHaveLength(1);

      expect(await ask(store(), 2000)).toBe(1);
      expect(await store().listDeadLetters()).toEqual([]);
      const [again] = await store().claimOperations({ scope: { account: 'mantago' }, limit: 1, owner: 'w', now: 2000, leaseMs: 1000 });
      expect(again).toMatchObject({ id: op!.id, action: 'add', version: 2, attempts: 0, requestedAt: 2000 });
    });

    it('records history for events with a user, keeping text only when asked to', async () => {
      await store().accept(batch(1000, [accepted('e1', [tagOp()], { event: { text: 'secret coupon' } })]));
      await store().accept(batch(2000, [accepted('e2', [], { event: { userId: undefined, kind: 'other', type: 'join' }, matched: [] })]));
      await store().accept(
        batch(3000, [accepted('e3', [], { event: { kind: 'postback', type: 'postback', text: 'visible', postbackData: 'action=buy' }, matched: [] })], [], true),
      );
      await store().accept(batch(4000, [accepted('e3', [])], [], true)); // duplicate: no second row

      const h = await store().userHistory('U1');
      expect(h.userId).toBe('U1');
      expect(h.events).toEqual([
        {
          id: expect.any(Number), receivedAt: 1000, eventAt: 1_700_000_000_000, platform: 'line', channel: 'line', recipient: 'C1', userId: 'U1', eventId: 'e1',
          kind: 'message', type: 'message/text', matched: ['coupon'], operations: [tagOp()],
        },
        {
          id: expect.any(Number), receivedAt: 3000, eventAt: 1_700_000_000_000, platform: 'line', channel: 'line', recipient: 'C1', userId: 'U1', eventId: 'e3',
          kind: 'postback', type: 'postback', text: 'visible', postbackData: 'action=buy', matched: [], operations: [],
        },
      ]);
      expect((await store().recentEvents(10)).map((e) => e.eventId)).toEqual(['e3', 'e1']);
      expect((await store().recentEvents(1)).map((e) => e.eventId)).toEqual(['e3']);
      expect((await store().userHistory('someone-else')).events).toEqual([]);
    });

    it('commits 50 concurrent accepts with the right result for each caller', async () => {
      // Batch i carries event e<i> (new) and e<i-1> (first seen in batch i-1), and asks
      // for tag-(i mod 10): the first ten batches queue a row each, the rest coalesce.
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          store().accept(
            batch(
              1000 + i,
              [accepted(`e${i}`, [tagOp({ tagId: `tag-${i % 10}` })]), ...(i > 0 ? [accepted(`e${i - 1}`, [tagOp({ tagId: 'never' })])] : [])],
              [forwardTo('http://one.test/hook', `U${i}`)],
            ),
          ),
        ),
      );
      expect(results).toEqual(
        results.map((_, i) => ({ accepted: 1, newEvents: [0], duplicates: i > 0 ? 1 : 0, operationsQueued: i < 10 ? 1 : 0, forwardsQueued: 1 })),
      );
      const claimed = await store().claimOperations({ scope: { account: 'mantago' }, limit: 100, owner: 'w', now: 9999, leaseMs: 1000 });
      expect(claimed.map((c) => c.tagId).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `tag-${i}`).sort());
      expect((await store().status(9999)).forwards.pending).toBe(50);
      expect((await store().recentEvents(100)).length).toBe(50);
    });

    // Accepts started in the same tick share one commit: these check that a shared
    // commit gives the same rows and counts as the webhooks committed one by one.
    describe('in one shared commit', () => {
      const claimAll = (now: number) => store().claimOperations({ scope: { account: 'mantago' }, limit: 100, owner: 'w', now, leaseMs: 1000 });

      it('coalesces one key asked for again with the same action: the first request counts and sets the row', async () => {
        const results = await Promise.all([
          store().accept(batch(1000, [accepted('e1', [tagOp({ tagId: 'x' })])])),
          store().accept(batch(1001, [accepted('e2', [tagOp({ tagId: 'x' })]), accepted('e3', [tagOp({ tagId: 'y' })])])),
          store().accept(batch(1002, [accepted('e4', [tagOp({ tagId: 'x' }), tagOp({ tagId: 'y' })])])),
        ]);
        expect(results.map((r) => r.operationsQueued)).toEqual([1, 1, 0]);
        expect(results.map((r) => r.accepted)).toEqual([1, 2, 1]);
        const claimed = await claimAll(2000);
        expect(claimed.map((c) => [c.tagId, c.version, c.requestedAt]).sort()).toEqual([['x', 1, 1000], ['y', 1, 1001]]);
      });

      it('applies one key asked for with different actions in order: the last request wins', async () => {
        await ask(store(), 500, { tagId: 'x' });
        const results = await Promise.all([
          store().accept(batch(1000, [accepted('e1', [tagOp({ tagId: 'x', action: 'remove' })])])),
          store().accept(batch(1001, [accepted('e2', [tagOp({ tagId: 'x', action: 'add' })])])),
          store().accept(batch(1002, [accepted('e3', [tagOp({ tagId: 'x', action: 'add' })])])),
        ]);
        expect(results.map((r) => r.operationsQueued)).toEqual([1, 1, 0]);
        const [row] = await claimAll(2000);
        expect(row).toMatchObject({ tagId: 'x', action: 'add', version: 3, requestedAt: 1001 });
      });

      it('credits a changed row to the first NEW event that asked for it, not to a duplicate before it', async () => {
        await store().accept(batch(500, [accepted('old', [])]));
        const results = await Promise.all([
          store().accept(batch(1000, [accepted('old', [tagOp({ tagId: 'x' })])])), // seen before: asks for nothing
          store().accept(batch(1001, [accepted('e2', [tagOp({ tagId: 'x' })])])),
          store().accept(batch(1002, [accepted('e3', [tagOp({ tagId: 'x' })])])),
        ]);
        expect(results.map((r) => [r.accepted, r.duplicates, r.operationsQueued])).toEqual([[0, 1, 0], [1, 0, 1], [1, 0, 0]]);
        const [row] = await claimAll(2000);
        expect(row).toMatchObject({ tagId: 'x', version: 1, requestedAt: 1001 });
      });

      it('ignores what a duplicate asks for even when it contradicts a new event', async () => {
        await store().accept(batch(500, [accepted('old', [])]));
        const results = await Promise.all([
          store().accept(batch(1000, [accepted('old', [tagOp({ tagId: 'x', action: 'remove' })])])),
          store().accept(batch(1001, [accepted('e2', [tagOp({ tagId: 'x', action: 'add' })])])),
          store().accept(batch(1002, [accepted('e2', [tagOp({ tagId: 'x', action: 'remove' })])])), // the same event again
        ]);
        expect(results.map((r) => [r.accepted, r.duplicates, r.operationsQueued])).toEqual([[0, 1, 0], [1, 0, 1], [0, 1, 0]]);
        const [row] = await claimAll(2000);
        expect(row).toMatchObject({ tagId: 'x', action: 'add', version: 1 });
        expect((await store().recentEvents(10)).map((e) => e.eventId)).toEqual(['e2', 'old']);
      });

      it('stores every forward, duplicates included, and sends one key in the order the webhooks came', async () => {
        const hook = (text: string) => Buffer.from(`{"events":[{"text":"${text}"}]}`);
        const results = await Promise.all([
          store().accept(batch(1000, [accepted('e1')], [forwardTo('http://a.test', 'U1', hook('first')), forwardTo('http://b.test', 'U1', hook('first'))])),
          store().accept(batch(1001, [accepted('e1')], [forwardTo('http://a.test', 'U1', hook('again'))])),
          store().accept(batch(1002, [accepted('e2')], [forwardTo('http://a.test', 'U1', hook('second'))])),
        ]);
        expect(results.map((r) => r.forwardsQueued)).toEqual([2, 1, 1]);
        const order: string[] = [];
        for (;;) {
          const [head] = await store().claimForwards({ owner: 'w', now: 2000, limit: 1, leaseMs: 1000, destinations: ['http://a.test'] });
          if (!head) break;
          order.push(head.body.toString());
          await store().completeForward(head, 'w', 2000, { status: 200 });
        }
        expect(order).toEqual([hook('first'), hook('again'), hook('second')].map(String));
        const [toB] = await store().claimForwards({ owner: 'w', now: 2000, limit: 10, leaseMs: 1000, destinations: ['http://b.test'] });
        expect(toB).toMatchObject({ body: hook('first'), receivedAt: 1000 });
      });
    });

    it('wakes listeners after an accept that queued work, not after one that queued nothing', async () => {
      const kinds: WorkKind[] = [];
      const off = store().onWork((k) => kinds.push(k));
      await store().accept(batch(1000, [accepted('e1')], [forwardTo('http://one.test/hook')]));
      expect([...kinds].sort()).toEqual(['forwards', 'operations']);

      await ask(store(), 2000); // coalesced into the pending row: nothing new to do
      await store().accept(batch(2100, [accepted('e1')])); // duplicate
      expect(kinds).toHaveLength(2);

      off();
      await ask(store(), 3000, { tagId: 'other' });
      expect(kinds).toHaveLength(2);
    });
  });
}
