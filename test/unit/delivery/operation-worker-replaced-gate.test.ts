import { TagApiError } from '../../../src/providers/errors';
import type { Tagger } from '../../../src/providers/taggers';
import type { ClaimedOperation } from '../../../src/store/store';
import { claimedOp as op, workerOver } from '../../helpers/worker-parts';

/**
 * A call keeps the gate that let it go to its end, even should the account's gate be started
 * anew meanwhile (AccountRateGate.startFrom: the caller role taken, the stored estimate read).
 * A `Retry-After` is the account's, not the gate's: met by such a call, it must hold the gate in
 * force too. It used to pause only the replaced gate (and the pause this instance shares is not
 * heard by itself), so the new gate went on calling through the pause the API asked for.
 */
describe('OperationWorker: a Retry-After met by a call of a gate started anew since', () => {
  beforeEach(() => jest.useFakeTimers({ now: new Date('2026-12-09T04:00:00Z') }));
  afterEach(() => jest.useRealTimers());

  it.each([
    ['a 429', 429],
    ['a 503', 503],
  ])('%s with Retry-After: 5 pauses the gate in force, not only the one the call went through', async (_what, status) => {
    const queue: ClaimedOperation[] = [];
    const called: string[] = [];
    let answer: (() => void) | undefined;
    const tagger: Tagger = {
      apply: (o) => {
        called.push(o.userId);
        if (o.userId !== 'U1') return Promise.resolve();
        return new Promise<void>((_resolve, reject) => {
          answer = () => reject(new TagApiError({ provider: 'mantago', status, retryable: true, retryAfterMs: 5000, reason: `${status} for ${o.userId}` }));
        });
      },
    };
    const worker = workerOver({ queue, tagger, concurrency: 4 });
    worker.start();
    queue.push(op(1));
    worker.wake();
    await jest.advanceTimersByTimeAsync(50);
    expect(called).toEqual(['U1']);
    const before = worker.gate;
    // The caller role taken while the call is in flight: the gate is started anew.
    worker.rateGate.startFrom(undefined);
    expect(worker.gate).not.toBe(before);

    answer!();
    await jest.advanceTimersByTimeAsync(10);
    queue.push(op(2));
    worker.wake();
    await jest.advanceTimersByTimeAsync(4000);
    expect(called).toEqual(['U1']); // nothing called through the pause
    expect(worker.gate.pausedMs()).toBeGreaterThan(900);
    await jest.advanceTimersByTimeAsync(6000 + 5000);
    expect(called).toEqual(['U1', 'U2']); // and calls go on once it ends
    await worker.stop(100);
  });
});
