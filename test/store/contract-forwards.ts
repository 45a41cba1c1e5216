import type { ClaimedForward, Store, WorkKind } from '../../src/store/store';
import { batch, forwardTo } from './builders';

export function forwardsContract(store: () => Store): void {
  const A = 'http://a.test/hook';
  const B = 'http://b.test/hook';
  const claim = (owner: string, now: number, opts: { destinations?: string[]; leaseMs?: number; limit?: number } = {}) =>
    store().claimForwards({ owner, now, limit: opts.limit ?? 10, leaseMs: opts.leaseMs ?? 1000, destinations: opts.destinations });
  const bodies = (fs: ClaimedForward[]) => fs.map((f) => f.body.toString());
  /** One webhook per call, so each has its own body. */
  const receive = (now: number, ...forwards: ReturnType<typeof forwardTo>[]) => store().accept(batch(now, [], forwards));

  describe('forwards', () => {
    it('hands back the exact bytes and headers received', async () => {
      const body = Buffer.from([0x7b, 0x22, 0xe5, 0x84, 0xaa, 0x22, 0x3a, 0xff, 0x00, 0x7d]);
      const headers = { 'content-type': 'application/json; charset=utf-8', 'x-hub-signature-256': 'sha256=abc' };
      await receive(1000, { destination: A, orderingKey: 'U1', body, headers });
      const [f] = await claim('w', 1000);
      expect(f).toEqual({ id: expect.any(Number), destination: A, orderingKey: 'U1', body, headers, receivedAt: 1000, dueAt: 1000, attempts: 0, last: {} });
    });

    it('sends one key in order: a failing head holds the later ones, other keys and destinations go on', async () => {
      await receive(1000, forwardTo(A, 'U1', Buffer.from('w1')), forwardTo(B, 'U1', Buffer.from('w1')));
      await receive(1001, forwardTo(A, 'U1', Buffer.from('w2')));
      await receive(1002, forwardTo(A, 'U2', Buffer.from('w3')));

      const heads = await claim('w', 2000);
      expect(heads.map((f) => [f.destination, f.body.toString()])).toEqual([
        [A, 'w1'],
        [B, 'w1'],
        [A, 'w3'],
      ]);
      const [w1A, w1B, w3] = heads;
      await store().retryForward(w1A!, 'w', 2000, { dueAt: 5000, status: 503 });
      await store().completeForward(w1B!, 'w', 2000, { status: 200 });
      await store().completeForward(w3!, 'w', 2000, { status: 200 });
      expect(await claim('w', 4999)).toEqual([]); // w2 waits behind w1
      expect(await store().nextDueAt('forwards')).toBe(5000);

      const [again] = await claim('w', 5000);
      // It comes back with its due time and how its attempt ended (a forward past its give-up keeps that in its dead letter).
      expect(again).toMatchObject({ id: w1A!.id, attempts: 1, dueAt: 5000, last: { status: 503 } });
      await store().completeForward(again!, 'w', 5000, { status: 200 });
      expect(bodies(await claim('w', 5000))).toEqual(['w2']);
    });

    it('keeps as dead letters the forwards of a destination no longer configured, except one held under a lease', async () => {
      const C = 'http://c.test/hook';
      await receive(1000, forwardTo(A, 'U1', Buffer.from('a1')), forwardTo(B, 'U1', Buffer.from('b1')));
      await receive(1001, forwardTo(B, 'U1', Buffer.from('b2')));
      await receive(1002, forwardTo(C, 'U2', Buffer.from('c1')));
      // C's forward is leased by a live loop (an instance that still forwards there).
      const [held] = await claim('w', 1002, { destinations: [C], leaseMs: 10_000 });
      const kept = await store().deadLetterForwardsNotTo([A], 2000, (url) => `not sent: ${url} is no longer configured`);
      expect(kept).toEqual(new Map([[B, 2]]));
      const dead = await store().listDeadLetters();
      expect(dead.map((d) => [d.type, d.forward?.destination, d.reason, d.at]).sort()).toEqual([
        ['forward', B, `not sent: ${B} is no longer configured`, 2000],
        ['forward', B, `not sent: ${B} is no longer configured`, 2000],
      ]);
      // A's forward is untouched; the held one is left to its holder, and kept once its lease has ended.
      expect(bodies(await claim('w', 2000, { destinations: [A] }))).toEqual(['a1']);
      expect(held).toBeDefined();
      expect(await store().deadLetterForwardsNotTo([A], 5000, () => 'gone')).toEqual(new Map());
      expect(await store().deadLetterForwardsNotTo([A], 20_000, () => 'gone')).toEqual(new Map([[C, 1]]));
    });

    it('lets the next forward of a key go once the head becomes a dead letter', async () => {
      await receive(1000, forwardTo(A, 'U1', Buffer.from('w1')));
      await receive(1001, forwardTo(A, 'U1', Buffer.from('w2')));
      const [w1] = await claim('w', 1000);
      await store().deadLetterForward(w1!, 'w', 61_000, { reason: 'no success within FORWARD_GIVE_UP_MS', status: 500, bodyExcerpt: 'oops' });
      expect(bodies(await claim('w', 61_000))).toEqual(['w2']);
      expect(await store().listDeadLetters()).toEqual([
        {
          id: `fwd-${w1!.id}`,
          type: 'forward',
          reason: 'no success within FORWARD_GIVE_UP_MS',
          status: 500,
          bodyExcerpt: 'oops',
          at: 61_000,
          attempts: 1,
          forward: { destination: A, orderingKey: 'U1', receivedAt: 1000 },
        },
      ]);
    });

    it('sends in order the forwards of one key queued in one commit, and of several webhooks of one commit', async () => {
      // One webhook with two forwards of one key (a body is stored once), then webhooks of one person committed together.
      await receive(1000, forwardTo(A, 'U1', Buffer.from('w1')), forwardTo(A, 'U1', Buffer.from('w2')));
      await Promise.all([3, 4, 5].map((n) => receive(1000 + n, forwardTo(A, 'U1', Buffer.from(`w${n}`)))));
      const sent: string[] = [];
      for (let now = 2000; now < 2010; now++) {
        const claimed = await claim('w', now);
        expect(claimed.length).toBeLessThanOrEqual(1); // never two of one key at once
        for (const f of claimed) {
          sent.push(f.body.toString());
          await store().completeForward(f, 'w', now, { status: 200 });
        }
      }
      expect(sent).toEqual(['w1', 'w2', 'w3', 'w4', 'w5']);
    });

    it('sends a dead letter queued again before the forwards of its key that wait, then them in order', async () => {
      await receive(1000, forwardTo(A, 'U1', Buffer.from('w1')));
      await receive(1001, forwardTo(A, 'U1', Buffer.from('w2')));
      await receive(1002, forwardTo(A, 'U1', Buffer.from('w3')));
      const [w1] = await claim('w', 1000);
      await store().deadLetterForward(w1!, 'w', 1500, { reason: 'gave up' });
      const [w2] = await claim('w', 1500);
      expect(w2?.body.toString()).toBe('w2');
      await store().retryForward(w2!, 'w', 1500, { dueAt: 1600, status: 500 });
      // w1 comes back ahead of w2 (its key's oldest), which waits behind it though it is due first.
      expect(await store().retryDeadLetters([`fwd-${w1!.id}`], 1700)).toBe(1);
      expect(await store().nextDueAt('forwards', A)).toBe(1700);
      expect(await claim('w', 1650)).toEqual([]);
      const [again] = await claim('w', 1700);
      expect(again?.body.toString()).toBe('w1');
      await store().retryForward(again!, 'w', 1700, { dueAt: 9000, status: 500 });
      expect(await store().nextDueAt('forwards', A)).toBe(9000); // w2 and w3 are due, but held behind w1
      expect(await claim('w', 8999)).toEqual([]);
      const [last] = await claim('w', 9000);
      await store().completeForward(last!, 'w', 9000, { status: 200 });
      expect(bodies(await claim('w', 9000))).toEqual(['w2']);
    });

    it('holds a dead letter queued again while a later forward of its key is being sent, until that one is delivered', async () => {
      await receive(1000, forwardTo(A, 'U1', Buffer.from('w1')));
      await receive(1001, forwardTo(A, 'U1', Buffer.from('w2')));
      const [w1] = await claim('w', 1000);
      await store().deadLetterForward(w1!, 'w', 1500, { reason: 'gave up' });
      const [w2] = await claim('w', 1500, { leaseMs: 10_000 });
      expect(w2?.body.toString()).toBe('w2');
      // w1 comes back as its key's oldest while w2 is in flight: it waits, and the next due time is w2's lease end, not now.
      expect(await store().retryDeadLetters([`fwd-${w1!.id}`], 1600)).toBe(1);
      expect(await claim('w', 1700)).toEqual([]);
      expect(await store().nextDueAt('forwards', A)).toBe(11_500);
      const kinds: WorkKind[] = [];
      store().onWork((k) => kinds.push(k));
      await store().completeForward(w2!, 'w', 1800, { status: 200 });
      expect(kinds).toEqual(['forwards']); // w1 may go now
      expect(bodies(await claim('w', 1800))).toEqual(['w1']);
    });

    it('lets a dead letter queued again go once the lease of the later forward of its key that held it ends', async () => {
      await receive(1000, forwardTo(A, 'U1', Buffer.from('w1')));
      await receive(1001, forwardTo(A, 'U1', Buffer.from('w2')));
      const [w1] = await claim('w', 1000);
      await store().deadLetterForward(w1!, 'w', 1500, { reason: 'gave up' });
      expect(bodies(await claim('w', 1500, { leaseMs: 1000 }))).toEqual(['w2']);
      expect(await store().retryDeadLetters([`fwd-${w1!.id}`], 1600)).toBe(1);
      expect(await claim('w', 2499)).toEqual([]);
      // w2's holder never settled it: at its lease end w1 goes, and w2 waits behind it.
      const [again] = await claim('w', 2500);
      expect(again?.body.toString()).toBe('w1');
      await store().retryForward(again!, 'w', 2600, { dueAt: 9000, status: 503 });
      // Due at w1's retry, not at w2's lease end, past but holding nothing now (a worker asking would spin).
      expect(await store().nextDueAt('forwards', A)).toBe(9000);
      expect(await claim('w', 8999)).toEqual([]);
      const [last] = await claim('w', 9000);
      expect(last?.body.toString()).toBe('w1');
      await store().completeForward(last!, 'w', 9000, { status: 200 });
      expect(bodies(await claim('w', 9000))).toEqual(['w2']);
    });

    it('settles forwards that end together, each as it ended: delivered, retried, or left alone when its lease is lost', async () => {
      await receive(1000, forwardTo(A, 'U1', Buffer.from('u1')), forwardTo(B, 'U1', Buffer.from('u1')));
      await receive(1001, forwardTo(A, 'U1', Buffer.from('u1-next')));
      await receive(1002, forwardTo(A, 'U2', Buffer.from('u2')));
      await receive(1003, forwardTo(A, 'U3', Buffer.from('u3')));
      const heads = await claim('w', 1003, { leaseMs: 10_000 });
      expect(heads.map((f) => [f.destination, f.body.toString()])).toEqual([[A, 'u1'], [B, 'u1'], [A, 'u2'], [A, 'u3']]);
      const [u1A, u1B, u2, u3] = heads as [ClaimedForward, ClaimedForward, ClaimedForward, ClaimedForward];
      const kinds: WorkKind[] = [];
      store().onWork((k) => kinds.push(k));
      await Promise.all([
        store().completeForward(u1A, 'w', 1100, { status: 200 }),
        store().completeForward(u1B, 'w', 1100, { status: 200 }),
        store().retryForward(u2, 'w', 1100, { dueAt: 5000, status: 503 }),
        store().completeForward(u3, 'someone else', 1100, { status: 200 }), // not its owner: left as it is
        store().retryForward(u3, 'someone else', 1100, { dueAt: 5000, status: 503 }),
      ]);
      expect(kinds).toContain('forwards'); // u1-next now leads U1
      expect((await store().status(1100)).forwards).toMatchObject({ pending: 2, leased: 1 }); // u1-next and u2 wait; u3 is still held
      expect(bodies(await claim('w', 1100))).toEqual(['u1-next']);
      // At 5000 u1-next's lease has run out and u2's retry is due; u3 is still held.
      const later = await claim('w', 5000, { destinations: [A] });
      expect(bodies(later)).toEqual(['u1-next', 'u2']);
      expect(later[1]).toMatchObject({ id: u2.id, attempts: 1, dueAt: 5000, last: { status: 503 } });
    });

    it('keeps forwards given up together as dead letters, each as it ended, and lets the next of each key go', async () => {
      await receive(1000, forwardTo(A, 'U1', Buffer.from('g1')));
      await receive(1001, forwardTo(A, 'U1', Buffer.from('g1-next')));
      await receive(1002, forwardTo(A, 'U2', Buffer.from('g2')));
      await receive(1003, forwardTo(A, 'U3', Buffer.from('g3')));
      await receive(1004, forwardTo(A, 'U4', Buffer.from('g4')));
      const heads = await claim('w', 1004, { leaseMs: 10_000 });
      expect(bodies(heads)).toEqual(['g1', 'g2', 'g3', 'g4']);
      const [g1, g2, g3, g4] = heads as [ClaimedForward, ClaimedForward, ClaimedForward, ClaimedForward];
      const kinds: WorkKind[] = [];
      store().onWork((k) => kinds.push(k));
      // In one tick, as calls that end together: two given up, one not held by its owner, one delivered.
      await Promise.all([
        store().deadLetterForward(g1, 'w', 1100, { reason: 'no success within 60 s', status: 503, bodyExcerpt: 'busy' }),
        store().deadLetterForward(g2, 'w', 1100, { reason: '404 from the destination', status: 404 }),
        store().deadLetterForward(g3, 'someone else', 1100, { reason: 'not held' }),
        store().completeForward(g4, 'w', 1100, { status: 200 }),
      ]);
      expect(kinds).toContain('forwards'); // g1-next now leads U1
      const dead = (await store().listDeadLetters()).sort((x, y) => (x.forward?.receivedAt ?? 0) - (y.forward?.receivedAt ?? 0));
      expect(dead).toEqual([
        expect.objectContaining({ type: 'forward', reason: 'no success within 60 s', status: 503, bodyExcerpt: 'busy', at: 1100, attempts: 1, forward: { destination: A, orderingKey: 'U1', receivedAt: 1000 } }),
        expect.objectContaining({ type: 'forward', reason: '404 from the destination', status: 404, at: 1100, attempts: 1, forward: { destination: A, orderingKey: 'U2', receivedAt: 1002 } }),
      ]);
      expect((await store().status(1100)).forwards).toMatchObject({ pending: 1, leased: 1, dead: 2 }); // g1-next waits; g3 is still held
      expect(bodies(await claim('w', 1100))).toEqual(['g1-next']);
    });

    it('claims only the destinations asked for', async () => {
      await receive(1000, forwardTo(A), forwardTo(B));
      expect(await claim('w', 1000, { destinations: [] })).toEqual([]);
      expect((await claim('w', 1000, { destinations: [B] })).map((f) => f.destination)).toEqual([B]);
      expect((await claim('w', 1000)).map((f) => f.destination)).toEqual([A]);
    });

    it('gives an expired lease to another owner and ignores the first owner afterwards', async () => {
      await receive(1000, forwardTo(A));
      const [mine] = await claim('A', 1000, { leaseMs: 1000 });
      expect(await claim('B', 1999)).toEqual([]);
      const [theirs] = await claim('B', 2000, { leaseMs: 10_000 });
      expect(theirs?.id).toBe(mine!.id);

      await store().completeForward(mine!, 'A', 2100, { status: 200 });
      await store().retryForward(mine!, 'A', 2100, { dueAt: 3000, status: 500 });
      await store().deadLetterForward(mine!, 'A', 2100, { reason: 'gave up' });
      expect((await store().status(2100)).forwards).toMatchObject({ leased: 1, pending: 0, dead: 0 });

      await store().completeForward(theirs!, 'B', 2200, { status: 200 });
      expect((await store().status(2200)).forwards).toMatchObject({ leased: 0, pending: 0, dead: 0, oldestPendingAgeMs: null });
    });

    it('counts only the head of each key when telling the next due time', async () => {
      expect(await store().nextDueAt('forwards')).toBeNull();
      await receive(1000, forwardTo(A, 'U1', Buffer.from('w1')));
      await receive(1001, forwardTo(A, 'U1', Buffer.from('w2')));
      const [w1] = await claim('w', 1000);
      await store().retryForward(w1!, 'w', 1000, { dueAt: 9000 });
      expect(await store().nextDueAt('forwards')).toBe(9000); // w2 is due, but held behind w1
    });

    it("tells one destination's next due time apart from another's", async () => {
      await receive(1000, forwardTo(A, 'U1', Buffer.from('a1')));
      const [a1] = await claim('w', 1000);
      await store().retryForward(a1!, 'w', 1000, { dueAt: 30_000 });
      await receive(2000, forwardTo(B, 'U1', Buffer.from('b1')));
      expect(await store().nextDueAt('forwards', A)).toBe(30_000);
      expect(await store().nextDueAt('forwards', B)).toBe(2000);
      expect(await store().nextDueAt('forwards')).toBe(2000);
      expect(await store().nextDueAt('forwards', 'http://nowhere.example/')).toBeNull();
    });

    it('wakes listeners when completing a forward lets a later one of its key go', async () => {
      await receive(1000, forwardTo(A, 'U1', Buffer.from('w1')));
      await receive(1001, forwardTo(A, 'U1', Buffer.from('w2')));
      const kinds: WorkKind[] = [];
      store().onWork((k) => kinds.push(k));
      const [w1] = await claim('w', 1000);
      await store().completeForward(w1!, 'w', 1000, { status: 200 });
      expect(kinds).toEqual(['forwards']);
      const [w2] = await claim('w', 2000);
      await store().completeForward(w2!, 'w', 2000, { status: 200 });
      expect(kinds).toEqual(['forwards']); // nothing follows w2
    });
  });
}
