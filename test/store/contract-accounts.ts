import type { Store } from '../../src/store/store';
import { NO_ACCOUNT } from '../../src/tag-operation';
import { ask } from './builders';

/** Desired state per account (CONTRACT "Several channels in one instance": operations of different accounts never coalesce). */
export function accountsContract(store: () => Store): void {
  const claim = (scope: { account: string } | { accountsOtherThan: string[] }, now = 5000) =>
    store().claimOperations({ scope, limit: 10, owner: 'w', now, leaseMs: 1000 });

  describe('accounts and channels', () => {
    it('keeps one row per account: the same tag of the same user in two accounts never coalesces', async () => {
      expect(await ask(store(), 1000, { account: 'brand-a', channel: 'brand-a-line' })).toBe(1);
      expect(await ask(store(), 1001, { account: 'brand-b', channel: 'brand-b-line' })).toBe(1);
      expect(await ask(store(), 1002, { account: 'brand-a', channel: 'brand-a-line' })).toBe(0); // coalesced into brand-a's row
      expect((await claim({ account: 'brand-a' })).map((o) => [o.account, o.channel, o.tagId])).toEqual([['brand-a', 'brand-a-line', 'tag-1']]);
      expect((await claim({ account: 'brand-b' })).map((o) => [o.account, o.channel])).toEqual([['brand-b', 'brand-b-line']]);
    });

    it('takes the channel of the newest request that changed a row', async () => {
      await ask(store(), 1000, { account: 'shared', channel: 'meta-one' });
      await ask(store(), 1100, { account: 'shared', channel: 'meta-two', action: 'remove' });
      const [op] = await claim({ account: 'shared' });
      expect([op!.action, op!.channel, op!.version]).toEqual(['remove', 'meta-two', 2]);
    });

    it('claims and wakes for every account but some: the loop that keeps what no configured account can take', async () => {
      await ask(store(), 1000, { account: 'brand-a', tagId: 'a' });
      await ask(store(), 2000, { account: NO_ACCOUNT, tagId: 'none' });
      await ask(store(), 3000, { account: 'gone', tagId: 'gone' });
      expect(await store().nextDueAt('operations', { accountsOtherThan: ['brand-a'] })).toBe(2000);
      expect(await store().nextDueAt('operations', { account: 'brand-a' })).toBe(1000);
      expect(await store().nextDueAt('operations', { account: 'brand-b' })).toBeNull();
      expect((await claim({ accountsOtherThan: ['brand-a'] })).map((o) => o.tagId)).toEqual(['none', 'gone']);
      // Nothing excluded: every account's, but the rows still leased above are not claimed twice.
      expect((await claim({ accountsOtherThan: [] })).map((o) => o.tagId)).toEqual(['a']);
    });

    it('gives dead operations without an account the account that exists now, unless it already holds that tag of that user', async () => {
      for (const [tagId, channel] of [['t1', 'brand-c-line'], ['t2', 'brand-c-line'], ['t3', 'meta-app']] as const) {
        await ask(store(), 1000, { account: NO_ACCOUNT, channel, tagId });
      }
      for (const op of await claim({ accountsOtherThan: [] })) {
        await store().deadLetterOperation(op, 'w', 1100, { reason: 'no MantaGo account', code: 'account_missing' });
      }
      // brand-a already asks for t2 for this user: that newer desired state wins.
      await ask(store(), 1200, { account: 'brand-a', channel: 'brand-c-line', tagId: 't2', action: 'remove' });
      expect(await store().accountlessOperations()).toEqual([
        { provider: 'mantago', channel: 'brand-c-line' },
        { provider: 'mantago', channel: 'meta-app' },
      ]);
      expect(await store().assignAccount({ provider: 'mantago', channel: 'brand-c-line', account: 'brand-a' }, 2000)).toBe(1);
      const ops = await claim({ account: 'brand-a' });
      expect(ops.map((o) => [o.tagId, o.action, o.requestedAt, o.attempts]).sort()).toEqual([
        ['t1', 'add', 2000, 0],
        ['t2', 'remove', 1200, 0],
      ]);
      expect((await store().listDeadLetters()).map((d) => d.operation?.tagId).sort()).toEqual(['t2', 't3']);
      expect(await store().assignAccount({ provider: 'botbonnie', channel: 'meta-app', account: 'brand-bb' }, 2000)).toBe(0);
    });

    it('counts operations by channel and by account', async () => {
      await ask(store(), 1000, { account: 'brand-a', channel: 'brand-a-line', tagId: 'x' });
      await ask(store(), 1000, { account: 'brand-a', channel: 'meta-app', tagId: 'y' });
      await ask(store(), 1000, { account: 'brand-bb', provider: 'botbonnie', channel: 'meta-app', tagId: 'z' });
      const s = await store().status(3000);
      expect(s.channels.map((c) => [c.channel, c.operations.pending, c.operations.oldestPendingAgeMs])).toEqual([
        ['brand-a-line', 1, 2000],
        ['meta-app', 2, 2000],
      ]);
      expect(s.accounts.map((a) => [a.account, a.provider, a.operations.pending])).toEqual([
        ['brand-a', 'mantago', 2],
        ['brand-bb', 'botbonnie', 1],
      ]);
    });
  });
}
