import type { Store } from '../../src/store/store';
import { ask } from './builders';

export function operationsContract(store: () => Store): void {
  const claim = (owner: string, now: number, opts: { limit?: number; leaseMs?: number; provider?: 'mantago' | 'botbonnie' } = {}) =>
    store().claimOperations({ scope: { account: opts.provider ?? 'mantago' }, limit: opts.limit ?? 10, owner, now, leaseMs: opts.leaseMs ?? 1000 });

  describe('operations', () => {
    it('claims due rows of one provider, oldest due first, up to the limit', async () => {
      await ask(store(), 2000, { tagId: 'b' });
      await ask(store(), 1000, { tagId: 'a' });
      await ask(store(), 1500, { tagId: 'c', provider: 'botbonnie' });
      await ask(store(), 3000, { tagId: 'd' });

      expect((await claim('w', 2500, { leaseMs: 60_000 })).map((c) => c.tagId)).toEqual(['a', 'b']); // d not due yet
      expect((await claim('w', 5000, { limit: 1 })).map((c) => c.tagId)).toEqual(['d']);
      const [bb] = await claim('w', 5000, { provider: 'botbonnie' });
      expect(bb).toEqual({
        id: expect.any(Number), action: 'add', provider: 'botbonnie', kind: 'personal', tagId: 'c', platform: 'line',
        recipient: 'C1', userId: 'U1', account: 'botbonnie', channel: 'line', version: 1, attempts: 0, notFoundCount: 0, requestedAt: 1500,
      });
    });

    it('does not claim a leased row until its lease runs out; then another owner may', async () => {
      await ask(store(), 1000);
      const [a] = await claim('A', 1000, { leaseMs: 1000 });
      expect(await claim('B', 1999)).toEqual([]);
      const [b] = await claim('B', 2000);
      expect(b).toMatchObject({ id: a!.id, version: 1 });
    });

    it("leaves a row alone once another owner holds it", async () => {
      await ask(store(), 1000);
      const [a] = await claim('A', 1000, { leaseMs: 1000 });
      const [b] = await claim('B', 2000, { leaseMs: 10_000 });

      expect(await store().completeOperation(a!, 'A', 2100, { status: 200 })).toBe(false);
      await store().retryOperation(a!, 'A', 2100, { dueAt: 2200, status: 500 });
      await store().deadLetterOperation(a!, 'A', 2100, { reason: 'gave up', status: 400 });
      expect((await store().status(2100)).operations).toMatchObject({ leased: 1, dead: 0, pending: 0 });
      expect((await store().userHistory('U1')).calls).toEqual([]);

      expect(await store().completeOperation(b!, 'B', 2300, { status: 200 })).toBe(true);
      expect((await store().userHistory('U1')).calls.map((c) => c.outcome)).toEqual(['applied']);
    });

    it('next due: the earliest of the unleased rows\' due times and the leased rows\' lease ends', async () => {
      await ask(store(), 1000, { userId: 'Ulease' });
      const [leased] = await claim('w', 1000, { leaseMs: 10_000 });
      expect(leased).toBeDefined();
      expect(await store().nextDueAt('operations')).toBe(11_000); // only the leased row: when its lease runs out
      expect(await store().nextDueAt('operations', 'mantago')).toBe(11_000);
      await ask(store(), 5000, { userId: 'Ulater' });
      await ask(store(), 4000, { userId: 'Uearlier' });
      expect(await store().nextDueAt('operations')).toBe(4000); // an unleased row due before the lease ends
      expect(await store().nextDueAt('operations', 'mantago')).toBe(4000);
      await claim('w', 4000, { limit: 1, leaseMs: 1000 }); // Uearlier, leased until 5000
      expect(await store().nextDueAt('operations', 'mantago')).toBe(5000);
      await store().retryOperation(leased!, 'w', 4500, { dueAt: 4600, status: 503 });
      expect(await store().nextDueAt('operations', 'mantago')).toBe(4600); // released: due again at its retry time
    });

    it('retries at dueAt, counting attempts and 404s', async () => {
      await ask(store(), 1000);
      const [first] = await claim('w', 1000);
      await store().retryOperation(first!, 'w', 1100, { dueAt: 5000, notFound: true, status: 404 });
      expect(await store().nextDueAt('operations')).toBe(5000);
      expect(await claim('w', 4999)).toEqual([]);

      const [second] = await claim('w', 5000);
      expect(second).toMatchObject({ version: 1, attempts: 1, notFoundCount: 1, requestedAt: 1000 });
      await store().retryOperation(second!, 'w', 5100, { dueAt: 6000, status: 503, error: 'HTTP 503' });
      const [third] = await claim('w', 6000);
      expect(third).toMatchObject({ attempts: 2, notFoundCount: 1 });
    });

    it('completes false when the version moved during the lease, and the newer action is due at once', async () => {
      await ask(store(), 1000);
      const [v1] = await claim('A', 1000, { leaseMs: 10_000 });
      expect(await ask(store(), 1500, { action: 'remove' })).toBe(1);
      expect(await claim('B', 1600)).toEqual([]); // the lease is kept

      expect(await store().completeOperation(v1!, 'A', 1700, { status: 200 })).toBe(false);
      expect(await store().nextDueAt('operations')).toBe(1700);
      const [v2] = await claim('B', 1700);
      expect(v2).toMatchObject({ id: v1!.id, action: 'remove', version: 2, attempts: 0, notFoundCount: 0, requestedAt: 1500 });
      expect(await store().completeOperation(v2!, 'B', 1800, { status: 200 })).toBe(true);
      expect((await store().userHistory('U1')).calls.map((c) => [c.operation.action, c.version, c.outcome])).toEqual([
        ['add', 1, 'applied'],
        ['remove', 2, 'applied'],
      ]);
    });

    it('settles calls that end together each on its own: applied, moved meanwhile, or not held', async () => {
      for (const tagId of ['a', 'b', 'c', 'd']) await ask(store(), 1000, { tagId });
      expect(await ask(store(), 1100, { tagId: 'b', action: 'remove' })).toBe(1); // b is at version 2 before the claim
      const held = new Map((await claim('C', 1200, { leaseMs: 10_000 })).map((o) => [o.tagId, o]));
      expect([...held.keys()].sort()).toEqual(['a', 'b', 'c', 'd']);
      expect(await ask(store(), 1300, { tagId: 'c', action: 'remove' })).toBe(1); // c moves while its call is out
      // Four answers in one tick, as calls that end together; d's under an owner that does not hold it.
      const results = await Promise.all([
        store().completeOperation(held.get('a')!, 'C', 1400, { status: 200 }),
        store().completeOperation(held.get('b')!, 'C', 1400, { status: 200 }),
        store().completeOperation(held.get('c')!, 'C', 1400, { status: 200 }),
        store().completeOperation(held.get('d')!, 'someone-else', 1400, { status: 200 }),
      ]);
      expect(results).toEqual([true, true, false, false]);
      // c's newer version is due at once; d is still C's; a and b are done.
      expect((await claim('D', 1400)).map((o) => [o.tagId, o.action, o.version])).toEqual([['c', 'remove', 2]]);
      expect((await store().status(1400)).operations).toMatchObject({ leased: 2, pending: 0 });
      const calls = (await store().userHistory('U1')).calls.map((h) => [h.operation.tagId, h.operation.action, h.version, h.outcome, h.status]);
      expect(calls).toHaveLength(3);
      expect(calls).toEqual(
        expect.arrayContaining([
          ['a', 'add', 1, 'applied', 200],
          ['b', 'remove', 2, 'applied', 200],
          ['c', 'add', 1, 'applied', 200],
        ]),
      );
    });

    it('makes the newer version due at once when a retry finds the version moved', async () => {
      await ask(store(), 1000);
      const [v1] = await claim('w', 1000, { leaseMs: 10_000 });
      await ask(store(), 1500, { action: 'remove' });
      await store().retryOperation(v1!, 'w', 1600, { dueAt: 99_000, status: 500 });
      const [v2] = await claim('w', 1600);
      expect(v2).toMatchObject({ action: 'remove', version: 2, attempts: 0 });
      expect((await store().userHistory('U1')).calls.map((c) => c.outcome)).toEqual(['superseded']);
    });

    it('keeps a dead letter with its reason, last status and a body excerpt', async () => {
      await ask(store(), 1000);
      const [op] = await claim('w', 1000);
      await store().deadLetterOperation(op!, 'w', 1200, {
        reason: '400 from mantago: tag not found',
        status: 400,
        bodyExcerpt: '{"success":false,"errResponse":{"message":"tag not found"}}',
      });
      expect(await store().listDeadLetters()).toEqual([
        {
          id: `op-${op!.id}`,
          type: 'operation',
          reason: '400 from mantago: tag not found',
          status: 400,
          bodyExcerpt: '{"success":false,"errResponse":{"message":"tag not found"}}',
          at: 1200,
          attempts: 1,
          operation: { action: 'add', provider: 'mantago', kind: 'personal', tagId: 'tag-1', platform: 'line', recipient: 'C1', userId: 'U1', account: 'mantago', channel: 'line' },
        },
      ]);
      expect(await claim('w', 9999)).toEqual([]);
      expect(await store().nextDueAt('operations')).toBeNull();
      const [call] = (await store().userHistory('U1')).calls;
      expect(call).toMatchObject({ at: 1200, version: 1, outcome: 'dead', status: 400 });
    });

    it('does not count a dead letter made without a call as an attempt', async () => {
      await ask(store(), 1000);
      const [op] = await claim('w', 1000);
      await store().deadLetterOperation(op!, 'w', 1000, { reason: 'MANTAGO_TOKEN is not set' });
      const [dead] = await store().listDeadLetters();
      expect(dead).toMatchObject({ reason: 'MANTAGO_TOKEN is not set', attempts: 0 });
      expect(dead?.status).toBeUndefined();
    });

    it('does not dead-letter a row whose version moved: the newer action is due instead', async () => {
      await ask(store(), 1000);
      const [v1] = await claim('w', 1000, { leaseMs: 10_000 });
      await ask(store(), 1500, { action: 'remove' });
      await store().deadLetterOperation(v1!, 'w', 1600, { reason: '400 from mantago', status: 400 });
      expect(await store().listDeadLetters()).toEqual([]);
      expect(await claim('w', 1600)).toEqual([expect.objectContaining({ action: 'remove', version: 2 })]);
    });

    it("renews only the owner's own leases", async () => {
      await ask(store(), 1000);
      const [op] = await claim('A', 1000, { leaseMs: 1000 });
      await store().renewOperationLeases([op!.id], 'A', 1500, 1000); // until 2500
      await store().renewOperationLeases([op!.id], 'B', 1500, 60_000); // not B's: ignored
      expect(await claim('B', 2400)).toEqual([]);
      expect(await claim('B', 2500)).toHaveLength(1);
    });

    it('releases one owner’s leases, or everyone’s', async () => {
      await ask(store(), 1000, { tagId: 'a' });
      await ask(store(), 1000, { tagId: 'b', provider: 'botbonnie' });
      await claim('A', 1000, { leaseMs: 60_000 });
      await claim('B', 1000, { leaseMs: 60_000, provider: 'botbonnie' });

      expect(await store().releaseLeases('A')).toBe(1);
      expect((await claim('C', 1100, { leaseMs: 60_000 })).map((c) => c.tagId)).toEqual(['a']);
      expect(await claim('D', 1100, { provider: 'botbonnie' })).toEqual([]);

      expect(await store().releaseAllLeases()).toBe(2);
      expect(await claim('D', 1200)).toHaveLength(1);
      expect(await claim('D', 1200, { provider: 'botbonnie' })).toHaveLength(1);
    });

    it('tells when the next claim can return something', async () => {
      expect(await store().nextDueAt('operations')).toBeNull();
      await ask(store(), 3000, { tagId: 'a' });
      await ask(store(), 2000, { tagId: 'b' });
      expect(await store().nextDueAt('operations')).toBe(2000);
      await claim('w', 2000, { limit: 1, leaseMs: 5000 }); // b leased until 7000
      expect(await store().nextDueAt('operations')).toBe(3000);
      await claim('w', 3000, { limit: 1, leaseMs: 5000 }); // a leased until 8000
      expect(await store().nextDueAt('operations')).toBe(7000);
    });
  });
}
