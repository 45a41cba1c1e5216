import type { Tagger } from '../../../src/providers/taggers';
import type { ClaimedOperation } from '../../../src/store/store';
import { CallLease } from '../../../src/delivery/call-lease';
import { claimedOp, workerOver } from '../../helpers/worker-parts';

/**
 * A process frozen or starved past a lease's call deadline (a SIGSTOP, a paused VM, a claim
 * answered after a long block of the loop) runs what came due in an order of its own: the
 * deadline's timer may act after a call was started. With PostgreSQL another instance takes a
 * gone holder's leases at that deadline, so a call started past it could run beside the other
 * instance's call of the same key. The deadline is read off the clock before each call.
 */

/** Blocks the event loop for `ms`, as a frozen or starved process is. */
function blockLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy: no timer, no I/O
  }
}

describe('a call whose lease passed its call deadline before it started', () => {
  it('CallLease.checkDeadline aborts the signal once the deadline has passed, before its timer has acted', () => {
    const lease = new CallLease(new AbortController().signal, 30);
    lease.hold(1);
    lease.checkDeadline();
    expect(lease.signal.aborted).toBe(false);
    blockLoop(60);
    expect(lease.signal.aborted).toBe(false); // the timer has not run: the loop was blocked
    lease.checkDeadline();
    expect(lease.signal.aborted).toBe(true);
    expect((lease.signal.reason as Error).name).toBe('CallDeadlineError');
    lease.done();
  });

  it('OperationWorker: a claim answered after the deadline (the loop blocked meanwhile) starts no tag call; the operation is retried', async () => {
    const queue: ClaimedOperation[] = [claimedOp(1)];
    const applied: string[] = [];
    const retried: string[] = [];
    const tagger: Tagger = {
      apply: async (o) => {
        applied.push(o.userId);
      },
    };
    const worker = workerOver({
      queue,
      tagger,
      concurrency: 1,
      callTimeoutMs: 50,
      store: {
        // The claim's lease (and its deadline) is made before the claim is sent; the loop then stays blocked past the deadline.
        claimOperations: async ({ limit }: { limit: number }) => {
          blockLoop(120);
          return queue.splice(0, limit);
        },
        retryOperation: async (o: ClaimedOperation, _owner: string, _now: number, r: { error: string }) => {
          retried.push(`${o.userId}: ${r.error}`);
        },
      },
    });
    worker.start();
    worker.wake();
    const until = Date.now() + 3000;
    while (retried.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    await worker.stop(100);
    expect(applied).toEqual([]);
    expect(retried).toEqual([expect.stringMatching(/^U1: tag call not started: the call deadline of its lease passed \(50 ms after the claim\)/)]);
  });
});
