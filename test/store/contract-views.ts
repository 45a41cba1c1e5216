import type { Store, WorkKind } from '../../src/store/store';
import { accepted, ask, batch, deferred, forwardTo, tagOp } from './builders';

export function viewsContract(store: () => Store): void {
  const claim = (now: number, opts: { provider?: 'mantago' | 'botbonnie'; limit?: number; leaseMs?: number } = {}) =>
    store().claimOperations({ scope: { account: opts.provider ?? 'mantago' }, limit: opts.limit ?? 10, owner: 'w', now, leaseMs: opts.leaseMs ?? 1000 });

  /** Three dead letters: two mantago (token, 400), one botbonnie (token). */
  async function deadLetters(): Promise<void> {
    await ask(store(), 1000, { tagId: 'token' });
    await ask(store(), 1001, { tagId: 'bad' });
    await ask(store(), 1002, { tagId: 'bb', provider: 'botbonnie' });
    const ops = [...(await claim(1100)), ...(await claim(1100, { provider: 'botbonnie' }))];
    for (const op of ops) {
      const reason = op.provider === 'botbonnie' ? 'BOTBONNIE_TOKEN is not set' : op.tagId === 'token' ? 'MANTAGO_TOKEN is not set' : '400 from mantago: bad tag';
      const unconfigured = op.tagId === 'token' || op.provider === 'botbonnie';
      await store().deadLetterOperation(op, 'w', 1200, {
        reason,
        ...(op.tagId === 'bad' ? { status: 400 } : {}),
        ...(unconfigured ? { code: 'provider_not_configured' as const } : {}),
      });
    }
  }

  describe('operator views', () => {
    it('reports empty queues', async () => {
      const empty = { pending: 0, due: 0, leased: 0, dead: 0, oldestPendingAgeMs: null };
      expect(await store().status(1000)).toEqual({ operations: empty, forwards: empty, channels: [], accounts: [], lifetimes: { running: 0, nextEndAt: null }, pauses: [] });
    });

    it('counts pending, due, leased and dead work and the oldest pending age', async () => {
      await ask(store(), 1000, { tagId: 'leased' });
      await ask(store(), 2000, { tagId: 'due' });
      await ask(store(), 2500, { tagId: 'later' });
      await ask(store(), 2600, { tagId: 'dead' });
      const ops = await claim(2600, { leaseMs: 10_000 });
      for (const op of ops) {
        if (op.tagId === 'due') await store().retryOperation(op, 'w', 2700, { dueAt: 2800 });
        if (op.tagId === 'later') await store().retryOperation(op, 'w', 2700, { dueAt: 9000 });
        if (op.tagId === 'dead') await store().deadLetterOperation(op, 'w', 2700, { reason: 'gave up' });
      }
      await store().accept(batch(2900, [], [forwardTo('http://a.test/hook')]));

      const s = await store().status(3000);
      expect(s.operations).toEqual({ pending: 2, due: 1, leased: 1, dead: 1, oldestPendingAgeMs: 2000 });
      expect(s.forwards).toEqual({ pending: 1, due: 1, leased: 0, dead: 0, oldestPendingAgeMs: 100 });
      // A lease that ran out counts as pending again.
      expect((await store().status(20_000)).operations).toMatchObject({ pending: 3, due: 3, leased: 0 });
    });

    it('counts dead forwards by destination: every one, or those among given ids (read before queueing them again)', async () => {
      await deadLetters();
      await store().accept(batch(1000, [], [forwardTo('http://a.test/hook', 'U1'), forwardTo('http://a.test/hook', 'U2'), forwardTo('http://b.test/hook', 'U3'), forwardTo('http://c.test/hook', 'U4')]));
      for (const destination of ['http://a.test/hook', 'http://b.test/hook']) {
        for (const f of await store().claimForwards({ destinations: [destination], limit: 10, owner: 'w', now: 1100, leaseMs: 1000 })) {
          await store().deadLetterForward(f, 'w', 1200, { reason: 'gave up' });
        }
      }
      const listed = await store().listDeadLetters();
      const fwd = (destination: string) => listed.filter((d) => d.forward?.destination === destination).map((d) => d.id);
      expect([fwd('http://a.test/hook').length, fwd('http://b.test/hook').length, fwd('http://c.test/hook').length]).toEqual([2, 1, 0]);
      expect(await store().deadForwardDestinations('all')).toEqual(new Map([['http://a.test/hook', 2], ['http://b.test/hook', 1]]));
      // Operations, unknown ids and a repeated id are not counted.
      const ops = listed.filter((d) => d.operation).map((d) => d.id);
      expect(await store().deadForwardDestinations([...ops, fwd('http://a.test/hook')[0]!, fwd('http://a.test/hook')[0]!, ...fwd('http://b.test/hook'), 'fwd-999999', 'op-999999'])).toEqual(
        new Map([['http://a.test/hook', 1], ['http://b.test/hook', 1]]),
      );
      // Queued again: no longer dead.
      await store().retryDeadLetters(fwd('http://b.test/hook'), 1300);
      expect(await store().deadForwardDestinations('all')).toEqual(new Map([['http://a.test/hook', 2]]));
    });

    it('discards dead letters for good, by id or all: a forward whose body another forward holds keeps that one whole', async () => {
      await deadLetters();
      // One webhook forwarded to two destinations: one body, two forwards.
      await store().accept(batch(1000, [], [forwardTo('http://a.test/hook', 'U1'), forwardTo('http://b.test/hook', 'U1')]));
      const [fa] = await store().claimForwards({ destinations: ['http://a.test/hook'], limit: 10, owner: 'w', now: 1100, leaseMs: 1000 });
      await store().deadLetterForward(fa!, 'w', 1200, { reason: 'gave up' });
      const listed = await store().listDeadLetters();
      expect(listed).toHaveLength(4);
      const op = listed.find((d) => d.operation)!;
      const fwd = listed.find((d) => d.forward)!;
      expect(await store().discardDeadLetters([op.id, fwd.id, fwd.id, 'op-999999', 'fwd-999999'])).toBe(2);
      expect((await store().listDeadLetters()).map((d) => d.id).sort()).toEqual(listed.filter((d) => d !== op && d !== fwd).map((d) => d.id).sort());
      // Not a dead letter any more: nothing to discard, nothing to retry.
      expect(await store().discardDeadLetters([op.id])).toBe(0);
      expect(await store().retryDeadLetters([fwd.id], 1300)).toBe(0);
      // The other destination's forward of the same webhook still has its body.
      const [fb] = await store().claimForwards({ destinations: ['http://b.test/hook'], limit: 10, owner: 'w', now: 1300, leaseMs: 1000 });
      expect(fb!.body.toString()).toBe('{"events":[]}');
      // A pending forward or operation is never discarded.
      await store().deadLetterForward(fb!, 'w', 1400, { reason: 'gave up' });
      await ask(store(), 1500, { tagId: 'pending' });
      expect(await store().discardDeadLetters('all')).toBe(3);
      expect(await store().listDeadLetters()).toEqual([]);
      expect((await store().status(1600)).operations).toMatchObject({ pending: 1, dead: 0 });
      await expect(store().discardDeadLetters(['nope'])).rejects.toThrow(/"nope" is not a dead-letter id/);
    });

    it('queues dead letters again by id, fresh: due now, attempts and give-up window reset', async () => {
      await deadLetters();
      const kinds: WorkKind[] = [];
      store().onWork((k) => kinds.push(k));
      const listed = await store().listDeadLetters();
      expect(listed).toHaveLength(3);
      const bad = listed.find((d) => d.reason.startsWith('400'))!;

      // Whose each is, read before queueing: dead tag operations only.
      const deadOps = listed.filter((d) => d.operation);
      expect(await store().deadOperationAccounts([...listed.map((d) => d.id), 'op-999999', 'fwd-999999'])).toEqual(new Map(deadOps.map((d) => [d.id, d.operation!.account])));
      expect(deadOps.length).toBeGreaterThan(0);
      expect(await store().retryDeadLetters([bad.id, 'op-999999', 'fwd-999999'], 5000)).toBe(1);
      expect((await store().deadOperationAccounts([bad.id])).size).toBe(0);
      expect(kinds).toEqual(['operations']);
      expect(await store().listDeadLetters()).toHaveLength(2);
      const [again] = await claim(5000);
      expect(again).toMatchObject({ tagId: 'bad', attempts: 0, notFoundCount: 0, requestedAt: 5000, version: 1 });

      await expect(store().retryDeadLetters(['op-1', 'nope'], 5000)).rejects.toThrow(/"nope" is not a dead-letter id/);
    });

    it('queues every dead letter again with "all"', async () => {
      await deadLetters();
      await store().accept(batch(1000, [], [forwardTo('http://a.test/hook')]));
      const [f] = await store().claimForwards({ owner: 'w', now: 1000, limit: 1, leaseMs: 1000 });
      await store().deadLetterForward(f!, 'w', 1300, { reason: 'gave up', status: 404 });

      expect(await store().retryDeadLetters('all', 6000)).toBe(4);
      expect(await store().listDeadLetters()).toEqual([]);
      const [fwd] = await store().claimForwards({ owner: 'w', now: 6000, limit: 1, leaseMs: 1000 });
      expect(fwd).toMatchObject({ id: f!.id, attempts: 0, receivedAt: 6000 });
      expect((await store().status(6000)).operations.due).toBe(3);
    });

    it("requeues one provider's dead operations kept with a code, by the code alone", async () => {
      await deadLetters();
      // The same reason text without the code: a person wrote it, the service does not act on it.
      await ask(store(), 1003, { tagId: 'text-only' });
      const [textOnly] = await claim(1100);
      await store().deadLetterOperation(textOnly!, 'w', 1200, { reason: 'MANTAGO_TOKEN is not set' });
      expect((await store().listDeadLetters()).map((d) => [d.operation?.tagId, d.code ?? null])).toEqual(
        expect.arrayContaining([['token', 'provider_not_configured'], ['bb', 'provider_not_configured'], ['bad', null], ['text-only', null]]),
      );

      const kinds: WorkKind[] = [];
      store().onWork((k) => kinds.push(k));
      expect(await store().requeueDeadOperations('mantago', 'provider_not_configured', 7000)).toBe(1);
      expect(kinds).toEqual(['operations']);
      expect((await store().listDeadLetters()).map((d) => d.operation?.tagId).sort()).toEqual(['bad', 'bb', 'text-only']);
      expect((await claim(7000)).map((c) => [c.tagId, c.requestedAt])).toEqual([['token', 7000]]);
    });

    it('forgets the code when a dead letter is queued again or asked for anew', async () => {
      await deadLetters();
      await store().retryDeadLetters('all', 7000);
      const ops = [...(await claim(7000)), ...(await claim(7000, { provider: 'botbonnie' }))];
      for (const op of ops) await store().deadLetterOperation(op, 'w', 7100, { reason: 'something else' });
      expect((await store().listDeadLetters()).map((d) => d.code ?? null)).toEqual([null, null, null]);
      expect(await store().requeueDeadOperations('mantago', 'provider_not_configured', 7200)).toBe(0);
    });

    it('lists dead letters newest first, up to a limit', async () => {
      await ask(store(), 1000, { tagId: 'a' });
      await ask(store(), 1000, { tagId: 'b' });
      const [a, b] = await claim(1000);
      await store().deadLetterOperation(a!, 'w', 3000, { reason: 'first' });
      await store().deadLetterOperation(b!, 'w', 4000, { reason: 'second' });
      expect((await store().listDeadLetters()).map((d) => d.reason)).toEqual(['second', 'first']);
      expect((await store().listDeadLetters(1)).map((d) => d.reason)).toEqual(['second']);
    });

    it('lists every dead letter page by page, operations and forwards dead at the same time included', async () => {
      // 7 operations and 4 forwards; ids repeat across the two tables, and times tie within and across them.
      for (let i = 0; i < 7; i++) await ask(store(), 1000, { tagId: `t${i}` });
      const ops = await claim(1000, { limit: 7 });
      expect(ops).toHaveLength(7);
      for (const [i, op] of ops.entries()) await store().deadLetterOperation(op, 'w', i < 4 ? 3000 : 2000, { reason: `op ${i}` });
      await store().accept(batch(1000, [], ['U1', 'U2', 'U3', 'U4'].map((key) => forwardTo('http://a.test/hook', key))));
      const fwds = await store().claimForwards({ owner: 'w', now: 1000, limit: 4, leaseMs: 1000 });
      expect(fwds).toHaveLength(4);
      for (const [i, f] of fwds.entries()) await store().deadLetterForward(f, 'w', i < 3 ? 3000 : 2500, { reason: `fwd ${i}` });

      const all = await store().listDeadLetters(1000);
      expect(all).toHaveLength(11);
      expect(all.map((d) => d.at)).toEqual([...all.map((d) => d.at)].sort((a, b) => b - a));
      for (const size of [1, 2, 3, 5, 11, 12]) {
        const paged: string[] = [];
        let page = await store().listDeadLetters(size);
        // Bounded: a page that does not move on must fail the test, not hang it.
        for (let pages = 0; page.length > 0 && pages <= all.length; pages++) {
          expect(page.length).toBeLessThanOrEqual(size);
          paged.push(...page.map((d) => d.id));
          page = await store().listDeadLetters(size, page[page.length - 1]);
        }
        expect(paged).toEqual(all.map((d) => d.id));
      }

      // A page starts after the letter it is given, even when that letter was queued again meanwhile.
      const [first, second] = await store().listDeadLetters(2);
      await store().retryDeadLetters([second!.id], 4000);
      expect((await store().listDeadLetters(1000, second)).map((d) => d.id)).toEqual(all.slice(2).map((d) => d.id));
      expect((await store().listDeadLetters(1000, first)).map((d) => d.id)).toEqual(all.slice(2).map((d) => d.id));
    });
  });

  describe('history, pruning, settings and locks', () => {
    it('prunes old history and forgets old event ids', async () => {
      await store().accept(batch(1000, [accepted('old', undefined, { event: { timestamp: 900 } })]));
      const [op] = await claim(1000);
      await store().completeOperation(op!, 'w', 1500, { status: 200 });
      await store().accept(batch(5000, [accepted('new', [], { event: { timestamp: 4900 } })]));

      expect(await store().prune({ historyBefore: 2000, seenBefore: 2000 })).toEqual({ history: 2, seen: 1 });
      const h = await store().userHistory('U1');
      expect(h.events.map((e) => e.eventId)).toEqual(['new']);
      expect(h.calls).toEqual([]);
      // The old id is forgotten, the new one still a duplicate.
      expect(await store().accept(batch(6000, [accepted('old', []), accepted('new', [])]))).toMatchObject({ accepted: 1, duplicates: 1 });
    });

    it('remembers the id of an event dated in the future until 8 days after its own time can pass, not only its receipt', async () => {
      // Received at 1000, dated 100_000 (the platform's clock, or a forged time, ahead of ours).
      await store().accept(batch(1000, [accepted('future', [], { event: { timestamp: 100_000 } })]));
      // A prune that forgets ids received before 50_000 keeps this one: a replay at 60_000 is
      // not too old by its own time (CONTRACT.md, "What an event becomes"), so it must be a duplicate.
      expect(await store().prune({ historyBefore: 0, seenBefore: 50_000 })).toEqual({ history: 0, seen: 0 });
      expect(await store().accept(batch(60_000, [accepted('future', [], { event: { timestamp: 100_000 } })]))).toMatchObject({ accepted: 0, duplicates: 1 });
      expect(await store().prune({ historyBefore: 0, seenBefore: 100_001 })).toEqual({ history: 0, seen: 1 });
    });

    it("keeps each event's own time beside its receipt, as the platform sent it", async () => {
      // A late redelivery, and an event dated ahead of the receipt (kept as sent, though it counts as its receipt).
      await store().accept(batch(10_000, [accepted('late', [], { event: { timestamp: 4_000 } })]));
      await store().accept(batch(20_000, [accepted('ahead', [], { event: { timestamp: 90_000 } })]));
      // One commit that asks for one key twice, differently (PostgreSQL writes it step by step, not in one statement).
      await store().accept(
        batch(30_000, [
          accepted('add', [tagOp({ action: 'add' })], { event: { timestamp: 29_000 } }),
          accepted('remove', [tagOp({ action: 'remove' })], { event: { timestamp: 29_500 } }),
        ]),
      );
      const h = await store().userHistory('U1');
      expect(h.events.map((e) => [e.eventId, e.receivedAt, e.eventAt])).toEqual([
        ['late', 10_000, 4_000],
        ['ahead', 20_000, 90_000],
        ['add', 30_000, 29_000],
        ['remove', 30_000, 29_500],
      ]);
      expect((await store().recentEvents(1)).map((e) => e.eventAt)).toEqual([29_500]);
    });

    it("says how many events and calls a user's history holds in all, and whether the limit left some out", async () => {
      for (let i = 0; i < 5; i++) await store().accept(batch(1000 + i, [accepted(`e${i}`, [tagOp({ tagId: `t${i}` })])]));
      for (const op of await claim(2000)) await store().completeOperation(op, 'w', 2100, { status: 200 });
      await store().accept(batch(3000, [accepted('other', [tagOp({ userId: 'U2' })], { event: { userId: 'U2' } })]));

      const cut = await store().userHistory('U1', 3);
      expect(cut.events.map((e) => e.eventId)).toEqual(['e2', 'e3', 'e4']);
      expect(cut.calls).toHaveLength(3);
      expect(cut.total).toEqual({ events: 5, calls: 5, expiring: 0 });
      expect(cut.truncated).toBe(true);

      const whole = await store().userHistory('U1', 5);
      expect(whole.events).toHaveLength(5);
      expect(whole.total).toEqual({ events: 5, calls: 5, expiring: 0 });
      expect(whole.truncated).toBe(false);
      expect(await store().userHistory('nobody')).toMatchObject({ events: [], calls: [], total: { events: 0, calls: 0, expiring: 0 }, truncated: false });
    });

    it('keeps settings', async () => {
      expect(await store().getSetting('mantago.pair')).toBeUndefined();
      await store().setSetting('mantago.pair', '{"token":"a"}');
      await store().setSetting('mantago.pair', '{"token":"b"}');
      expect(await store().getSetting('mantago.pair')).toBe('{"token":"b"}');
    });

    it('runs holders of one lock one at a time, and holders of different locks side by side', async () => {
      const log: string[] = [];
      const gate = deferred();
      const firstIn = deferred();
      const first = store().withLock('refresh', async () => {
        log.push('first in');
        firstIn.resolve();
        await gate.promise;
        log.push('first out');
        return 1;
      });
      await firstIn.promise;
      const second = store().withLock('refresh', async () => {
        log.push('second in');
        return 2;
      });
      // A different name is not held up by the first holder.
      expect(await store().withLock('other', async () => 'free')).toBe('free');
      expect(log).toEqual(['first in']);
      gate.resolve();
      expect(await Promise.all([first, second])).toEqual([1, 2]);
      expect(log).toEqual(['first in', 'first out', 'second in']);

      await expect(store().withLock('refresh', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
      expect(await store().withLock('refresh', async () => 'after a failure')).toBe('after a failure');
    });

    it('answers ping and migrates again without losing data', async () => {
      await ask(store(), 1000);
      await expect(store().ping()).resolves.toBeUndefined();
      await store().migrate();
      expect((await store().status(1000)).operations.pending).toBe(1);
    });
  });
}
