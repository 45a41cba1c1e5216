import { TagApiError } from '../../../src/providers/errors';
import type { Tagger } from '../../../src/providers/taggers';
import type { ClaimedOperation } from '../../../src/store/store';
import { claimedOp as op, workerOver } from '../../helpers/worker-parts';

/**
 * A `Retry-After` pause is kept in the store (Store.sharePause) for the other instances and the
 * next start, and stopping waits for it before the store closes. Two runs of 429s in a row
 * start two writes: stopping must wait for both, not only the latest — the first may be the
 * slow one, and a store closed under it loses the pause (or throws into a closed pool).
 */
describe('OperationWorker: stopping waits for every pause write still running', () => {
  beforeEach(() => jest.useFakeTimers({ now: new Date('2026-12-09T04:00:00Z') }));
  afterEach(() => jest.useRealTimers());

  it('does not return while an earlier, slower write of a pause is still running', async () => {
    const queue: ClaimedOperation[] = [];
    const writes: { until: number; done: boolean; finish: () => void }[] = [];
    const sharePause = (_account: string, until: number) =>
      new Promise<void>((resolve) => {
        const w = { until, done: false, finish: () => ((w.done = true), resolve()) };
        writes.push(w);
      });
    const tagger: Tagger = {
      apply: (o) => Promise.reject(new TagApiError({ provider: 'mantago', status: 429, retryable: true, retryAfterMs: 1000, reason: `429 for ${o.userId}` })),
    };
    const worker = workerOver({ queue, tagger, concurrency: 1, store: { sharePause } });
    worker.start();
    queue.push(op(1));
    worker.wake();
    await jest.advanceTimersByTimeAsync(50);
    expect(writes).toHaveLength(1); // the first run's pause, its write still running
    await jest.advanceTimersByTimeAsync(1100); // the pause ends
    queue.push(op(2));
    worker.wake();
    await jest.advanceTimersByTimeAsync(50);
    expect(writes).toHaveLength(2); // a second run: a later end, kept by a write of its own
    expect(writes[1]!.until).toBeGreaterThan(writes[0]!.until);
    writes[1]!.finish();

    let stopped = false;
    const stopping = worker.stop(100).then(() => (stopped = true));
    await jest.advanceTimersByTimeAsync(500);
    expect(stopped).toBe(false); // the first write still runs: the store must stay open for it
    writes[0]!.finish();
    await stopping;
    expect(writes.every((w) => w.done)).toBe(true);
  });
});
