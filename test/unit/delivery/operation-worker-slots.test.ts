import { TagApiError } from '../../../src/providers/errors';
import type { Tagger } from '../../../src/providers/taggers';
import type { ClaimedOperation } from '../../../src/store/store';
import { callFrom } from '../../helpers/gate-calls';
import { claimedOp as op, workerOver } from '../../helpers/worker-parts';

/**
 * A timer may wake the worker before its slot — Node's start from the loop's cached time, and
 * jest's fake ones drop the fraction of a paced slot (33.3 ms waits 33). When the gate knew a
 * call by its slot's time, a call that started and answered "before" its slot left the slot
 * behind as a call still in flight: the next 429 waited a second for it, holding every call,
 * with nothing in flight at all. The gate now knows a call by its handle (call-times.ts).
 */
describe('OperationWorker and the rate gate: a call woken a little before its slot', () => {
  beforeEach(() => jest.useFakeTimers({ now: new Date('2026-12-09T04:00:00Z') }));
  afterEach(() => jest.useRealTimers());

  it('is no longer counted in flight once it answered: a later 429 with nothing in flight is weighed at once', async () => {
    const queue: ClaimedOperation[] = [];
    const answers: ('ok' | 429)[] = [];
    const outcomes: string[] = [];
    const tagger: Tagger = {
      apply: (o) =>
        new Promise((resolve, reject) => {
          const a = answers.shift() ?? 'ok';
          setTimeout(() => (a === 'ok' ? resolve() : reject(new TagApiError({ provider: 'mantago', status: 429, retryable: true, reason: `429 for ${o.userId}` }))), a === 'ok' ? 20 : 5);
        }),
    };
    const worker = workerOver({ queue, tagger, concurrency: 4, onOutcome: (o) => outcomes.push(`${o.outcome}${o.status ?? ''}`) });
    // The gate paces at about 30 calls a second (an earlier run of 429s): slots 33.3 ms apart.
    const t = Date.now() - 1005;
    for (let i = 0; i < 40; i++) worker.gate.accepted(callFrom(worker.gate, t + i * 25), t + i * 25 + 20);
    worker.gate.limited(undefined, callFrom(worker.gate, t + 1000));
    expect(worker.gate.rateCap).toBeDefined();
    await jest.advanceTimersByTimeAsync(5000);
    const cap = worker.gate.rateCap as number;
    expect(1000 / cap % 1).not.toBe(0); // a slot a fraction of a ms from any timer's

    worker.start();
    queue.push(op(1), op(2), op(3));
    worker.wake();
    await jest.advanceTimersByTimeAsync(1000);
    expect(outcomes).toEqual(['applied200', 'applied200', 'applied200']);

    answers.push(429);
    queue.push(op(4));
    worker.wake();
    await jest.advanceTimersByTimeAsync(50);
    expect(outcomes).toEqual(['applied200', 'applied200', 'applied200', 'retry429']);
    // Nothing is in flight: the 429 is weighed at once and calls go on paced, not held a second.
    expect(worker.gate.pausedMs()).toBe(0);
    await worker.stop(100);
  });
});
