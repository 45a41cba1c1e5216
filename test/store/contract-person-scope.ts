import type { PersonScopeRequest, Store } from '../../src/store/store';
import type { TagOperation } from '../../src/tag-operation';
import { askAt, lifetime } from './builders';

/**
 * CONTRACT "Order": desired state is one tag of one person at one provider account, the
 * person as the provider identifies them. BotBonnie goes by the `bot_pid` it is sent: for
 * LINE users the account's LINE pid when it sets one (`person`), shared by every LINE
 * destination; else the destination. `rescopePersons` brings rows written under another
 * scope under the one of now, as a start does.
 */
export function personScopeContract(store: () => Store): void {
  const claim = (now: number) => store().claimOperations({ scope: { account: 'botbonnie' }, limit: 10, owner: 'w', now, leaseMs: 1000 });
  const completeAll = async (now: number) => {
    for (const op of await claim(now)) await store().completeOperation(op, 'w', now, { status: 200 });
  };
  /** A BotBonnie LINE user U1 of the environment's account, writing to a destination; with the account's pid when `person` is given. */
  const bb = (recipient: string, over: Partial<TagOperation> = {}): Partial<TagOperation> => ({ provider: 'botbonnie', platform: 'line', recipient, channel: recipient, ...over });
  const shared = { person: '@shared' };
  const rescope = (over: Partial<PersonScopeRequest> = {}) =>
    store().rescopePersons({ account: 'botbonnie', provider: 'botbonnie', platform: 'line', person: '@shared', ...over });
  const outcomes = async () => (await store().userHistory('U1')).calls.map((c) => [c.operation.action, c.operation.recipient, c.outcome, c.cause ?? null]);

  describe('the person is who the provider is sent (BotBonnie LINE pid)', () => {
    it('with the pid set, an older event through another destination is superseded and queues nothing', async () => {
      expect(await askAt(store(), { now: 2100, at: 2000 }, { action: 'remove', ...bb('Udest1', shared) })).toBe(1);
      await completeAll(2100);
      expect(await askAt(store(), { now: 2200, at: 1000 }, { action: 'add', ...bb('Udest2', shared) })).toBe(0);
      expect(await claim(2200)).toEqual([]);
      expect(await outcomes()).toEqual([
        ['remove', 'Udest1', 'applied', null],
        ['add', 'Udest2', 'superseded', 'older_event'],
      ]);
    });

    it('re-keys rows written under their destinations to the pid: the newest stays, the others go', async () => {
      // Written before the pid was set: one row per destination.
      await askAt(store(), { now: 1100, at: 1000 }, { action: 'add', ...bb('Udest2'), lifetime: lifetime(10_000) });
      await askAt(store(), { now: 2100, at: 2000 }, { action: 'remove', ...bb('Udest1') });
      // Another tag, the Facebook users, and another account are not these rows.
      await askAt(store(), { now: 2100, at: 500 }, { action: 'add', ...bb('Udest2', { tagId: 'tag-2' }) });
      await askAt(store(), { now: 2100, at: 500 }, { action: 'add', ...bb('P1', { platform: 'facebook' }) });
      await askAt(store(), { now: 2100, at: 500 }, { action: 'add', ...bb('Udest2', { account: 'other-bb' }) });

      expect(await rescope()).toEqual({ rekeyed: 2, merged: 1 });
      // Done once: nothing is left under another scope.
      expect(await rescope()).toEqual({ rekeyed: 0, merged: 0 });

      // The older add is gone, with its lifetime: nothing expires into a removal later.
      const ops = await claim(50_000);
      expect(ops.map((o) => [o.tagId, o.platform, o.action, o.recipient]).sort()).toEqual([
        ['tag-1', 'facebook', 'add', 'P1'],
        ['tag-1', 'line', 'remove', 'Udest1'],
        ['tag-2', 'line', 'add', 'Udest2'],
      ]);
      for (const op of ops) await store().completeOperation(op, 'w', 50_000, { status: 200 });
      expect(await store().nextDueAt('operations', { account: 'botbonnie' })).toBeNull();

      // Under the pid now: an event between the two, through either destination, is older than the row.
      expect(await askAt(store(), { now: 60_000, at: 1500 }, { action: 'add', ...bb('Udest2', shared) })).toBe(0);
      expect(await askAt(store(), { now: 60_000, at: 1500 }, { action: 'add', ...bb('Udest1', shared) })).toBe(0);
      expect(await claim(60_000)).toEqual([]);
    });

    it('keeps the row set by the latest event when it is the one already under the pid', async () => {
      await askAt(store(), { now: 1100, at: 1000 }, { action: 'remove', ...bb('Udest1') });
      await askAt(store(), { now: 3100, at: 3000 }, { action: 'add', ...bb('Udest2', shared) });
      expect(await rescope()).toEqual({ rekeyed: 0, merged: 1 });
      expect((await claim(4000)).map((o) => [o.action, o.recipient])).toEqual([['add', 'Udest2']]);
    });

    it('equal event times: the row updated last stays', async () => {
      await askAt(store(), { now: 1200, at: 1000 }, { action: 'add', ...bb('Udest1') });
      await askAt(store(), { now: 1100, at: 1000 }, { action: 'remove', ...bb('Udest2') });
      expect(await rescope()).toEqual({ rekeyed: 1, merged: 1 });
      expect((await claim(4000)).map((o) => [o.action, o.recipient])).toEqual([['add', 'Udest1']]);
    });

    it('a pid changed or removed: rows move to the new pid, or back to their destinations', async () => {
      await askAt(store(), { now: 1100, at: 1000 }, { action: 'add', ...bb('Udest1', shared) });
      expect(await rescope({ person: '@renamed' })).toEqual({ rekeyed: 1, merged: 0 });
      expect(await askAt(store(), { now: 1200, at: 500 }, { action: 'remove', ...bb('Udest2', { person: '@renamed' }) })).toBe(0);

      expect(await rescope({ person: undefined })).toEqual({ rekeyed: 1, merged: 0 });
      // Keyed by its destination again: an older event there is superseded, one through the other destination is another person.
      expect(await askAt(store(), { now: 1300, at: 500 }, { action: 'remove', ...bb('Udest1') })).toBe(0);
      expect(await askAt(store(), { now: 1300, at: 500 }, { action: 'remove', ...bb('Udest2') })).toBe(1);
      expect((await claim(2000)).map((o) => [o.action, o.recipient]).sort()).toEqual([
        ['add', 'Udest1'],
        ['remove', 'Udest2'],
      ]);
    });
  });
}
