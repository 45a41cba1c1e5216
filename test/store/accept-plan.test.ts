import { planAccept } from '../../src/store/postgres/accept-plan';
import { accepted, batch, forwardTo, lifetime, tagOp } from './builders';

describe('planAccept (what one PostgreSQL statement writes for a shared commit)', () => {
  it('lists every event key once, sorted, seen at the time of the first batch carrying it', () => {
    const at = (id: string) => accepted(id, undefined, { event: { timestamp: 900 } });
    const plan = planAccept([batch(1000, [at('b'), at('a')]), batch(2000, [at('c'), at('a')])]);
    expect(plan.seenKeys).toEqual(['line/line:a', 'line/line:b', 'line/line:c']);
    expect(plan.seenAt).toEqual([1000, 1000, 2000]);
    // An event dated after its receipt is remembered from its own time (CONTRACT.md, "Once").
    expect(planAccept([batch(1000, [accepted('f', undefined, { event: { timestamp: 5000 } })])]).seenAt).toEqual([5000]);
  });

  it('writes history and operations only for the first occurrence of a key in the commit', () => {
    const plan = planAccept([
      batch(1000, [accepted('e1', [tagOp({ tagId: 'x' })])]),
      batch(2000, [accepted('e1', [tagOp({ tagId: 'y' })]), accepted('e2', [], { event: { userId: undefined }, matched: [] })]),
    ]);
    expect(plan.history.map((h) => h.key)).toEqual(['line/line:e1']); // e2 has no user: no history
    expect(plan.operations.map((o) => [o.batch, o.key, o.op.tagId])).toEqual([[0, 'line/line:e1', 'x']]);
  });

  it('ranks operation keys in sorted order, one rank per key whatever the action', () => {
    const plan = planAccept([
      batch(1000, [accepted('e1', [tagOp({ tagId: 'b' }), tagOp({ tagId: 'a' })])]),
      batch(1000, [accepted('e2', [tagOp({ tagId: 'b' })])]),
    ]);
    expect(plan.operations.map((o) => [o.op.tagId, o.rank])).toEqual([['b', 1], ['a', 0], ['b', 1]]);
    expect(plan.oneStatement).toBe(true);
  });

  it('leaves a commit that asks for one key with different actions to the step-by-step path', () => {
    const plan = planAccept([
      batch(1000, [accepted('e1', [tagOp({ tagId: 'x' })])]),
      batch(1001, [accepted('e2', [tagOp({ tagId: 'x', action: 'remove' })])]),
    ]);
    expect(plan.oneStatement).toBe(false);
    // A repeated event does not count: its operations are never written.
    expect(planAccept([batch(1000, [accepted('e1', [tagOp()])]), batch(1001, [accepted('e1', [tagOp({ action: 'remove' })])])]).oneStatement).toBe(true);
  });

  it('leaves a commit that asks for one key at different event times or lifetimes to the step-by-step path', () => {
    const at = (id: string, timestamp: number, over = {}) => accepted(id, [tagOp(over)], { event: { timestamp } });
    expect(planAccept([batch(5000, [at('e1', 1000)]), batch(5000, [at('e2', 2000)])]).oneStatement).toBe(false);
    expect(planAccept([batch(5000, [at('e1', 1000)]), batch(5000, [at('e2', 1000, { lifetime: lifetime(60_000) })])]).oneStatement).toBe(false);
    // The same request twice (one time, one lifetime) is one request.
    const same = planAccept([batch(5000, [at('e1', 1000, { lifetime: lifetime(60_000) })]), batch(6000, [at('e2', 1000, { lifetime: lifetime(60_000) })])]);
    expect(same.oneStatement).toBe(true);
    expect(same.operations.map((o) => [o.eventAt, o.expiresAt, o.rule])).toEqual([[1000, 61_000, 'trial'], [1000, 61_000, 'trial']]);
  });

  it('leaves a commit that asks for one key through two recipients to the step-by-step path (the row keeps the last one)', () => {
    const via = (id: string, recipient: string, channel: string) => accepted(id, [tagOp({ recipient, channel })], { event: { timestamp: 1000, recipient, channel } });
    expect(planAccept([batch(5000, [via('e1', 'UdestA', 'la'), via('e2', 'UdestB', 'lb')])]).oneStatement).toBe(false);
    expect(planAccept([batch(5000, [via('e1', 'UdestA', 'la'), via('e2', 'UdestA', 'la')])]).oneStatement).toBe(true);
  });

  it('takes an event time in the future as the receipt, and plans an add that arrived expired as history only', () => {
    const plan = planAccept([
      batch(5000, [
        accepted('future', [tagOp({ tagId: 'x' })], { event: { timestamp: 9000 } }),
        accepted('late', [tagOp({ tagId: 'y', lifetime: lifetime(1000, 'short') })], { event: { timestamp: 4000 } }),
      ]),
    ]);
    expect(plan.operations.map((o) => [o.op.tagId, o.eventAt])).toEqual([['x', 5000]]);
    expect(plan.expired).toEqual([
      {
        key: 'line/line:late',
        row: { at: 5000, userId: 'U1', operation: JSON.stringify(tagOp({ tagId: 'y', lifetime: lifetime(1000, 'short') })), version: 0, outcome: 'expired', cause: 'arrived_expired', rule: 'short' },
      },
    ]);
  });

  it('counts per batch from what the database reports: new keys, and the ranks it inserted or changed', () => {
    const plan = planAccept([
      batch(1000, [accepted('old', [tagOp({ tagId: 'x' })])], [forwardTo('http://a.test'), forwardTo('http://b.test')]),
      batch(1001, [accepted('e2', [tagOp({ tagId: 'x' }), tagOp({ tagId: 'y' })]), accepted('e2')]),
      batch(1002, [accepted('e3', [tagOp({ tagId: 'x' })])]),
    ]);
    const x = plan.operations.find((o) => o.op.tagId === 'x')!.rank;
    const y = plan.operations.find((o) => o.op.tagId === 'y')!.rank;
    expect(plan.results(new Set(['line/line:e2', 'line/line:e3']), new Set([x, y]))).toEqual([
      { accepted: 0, newEvents: [], duplicates: 1, operationsQueued: 0, forwardsQueued: 2 },
      { accepted: 1, newEvents: [0], duplicates: 1, operationsQueued: 2, forwardsQueued: 0 },
      { accepted: 1, newEvents: [0], duplicates: 0, operationsQueued: 0, forwardsQueued: 0 },
    ]);
    // Coalesced by the database (x not reported): nobody is credited for x.
    expect(plan.results(new Set(['line/line:e2', 'line/line:e3']), new Set([y])).map((r) => r.operationsQueued)).toEqual([0, 1, 0]);
  });
});
