import { EXPIRY_RECHECK_MS, createExpiryWatch } from '../../src/store/shared/expiry-watch';
import type { AccountScope } from '../../src/store/store';

/** An engine that counts the looks and answers a next lifetime end the test sets. */
function engine() {
  const e = {
    looks: [] as [string, number][],
    next: null as number | null,
    async expireOperations(scope: AccountScope, now: number) {
      e.looks.push(['account' in scope ? scope.account : 'others', now]);
      return 0;
    },
    async nextExpiryAt() {
      return e.next;
    },
  };
  return e;
}
const mantago: AccountScope = { account: 'mantago' };
const others: AccountScope = { accountsOtherThan: ['mantago'] };

describe('the expiry watch before claims', () => {
  it('with no lifetime running, looks once and then only every EXPIRY_RECHECK_MS of the claims’ clock', async () => {
    const e = engine();
    const w = createExpiryWatch(e);
    for (let t = 0; t < EXPIRY_RECHECK_MS; t += 50) await w.expireDue(mantago, t);
    expect(e.looks).toEqual([['mantago', 0]]);
    await w.expireDue(mantago, EXPIRY_RECHECK_MS);
    expect(e.looks).toEqual([['mantago', 0], ['mantago', EXPIRY_RECHECK_MS]]);
  });

  it('looks again when the next lifetime ends, not before', async () => {
    const e = engine();
    e.next = 300;
    const w = createExpiryWatch(e);
    await w.expireDue(mantago, 0);
    await w.expireDue(mantago, 299);
    expect(e.looks).toHaveLength(1);
    await w.expireDue(mantago, 300);
    expect(e.looks).toEqual([['mantago', 0], ['mantago', 300]]);
  });

  it('looks at once after an operation with a lifetime was accepted here, in every scope, and for a clock that went back', async () => {
    const e = engine();
    const w = createExpiryWatch(e);
    await w.expireDue(mantago, 0);
    await w.expireDue(others, 0);
    w.forget();
    await w.expireDue(mantago, 10);
    await w.expireDue(others, 10);
    await w.expireDue(mantago, 5);
    expect(e.looks).toEqual([['mantago', 0], ['others', 0], ['mantago', 10], ['others', 10], ['mantago', 5]]);
  });

  it('does not keep a look that an accept with a lifetime overtook', async () => {
    const e = engine();
    const w = createExpiryWatch(e);
    let release: () => void = () => undefined;
    e.nextExpiryAt = () => new Promise((resolve) => (release = () => resolve(null)));
    const look = w.expireDue(mantago, 0);
    await new Promise((r) => setImmediate(r));
    w.forget(); // accepted while the look was under way: its answer may not know the new lifetime
    release();
    await look;
    e.nextExpiryAt = async () => null;
    await w.expireDue(mantago, 1);
    expect(e.looks).toEqual([['mantago', 0], ['mantago', 1]]);
  });
});
