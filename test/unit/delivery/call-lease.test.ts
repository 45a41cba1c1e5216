import { getEventListeners } from 'node:events';
import { CallLease } from '../../../src/delivery/call-lease';
import { CallDeadlineError, ReleasedAtStopError } from '../../../src/call-deadline';

/**
 * The signal of a claim's calls: aborted at the call deadline, at a stop, or when the session is
 * lost — and, the session living as long as the process, nothing of a finished claim stays with
 * it. (With `AbortSignal.any([session, …])`, Node 20 kept one entry per claim in the session
 * signal's set of dependants for good: a long run's heap grew by megabytes a minute.)
 */
describe('CallLease', () => {
  /** The session signal's internal set of signals made from it by AbortSignal.any, where Node has one. */
  const dependants = (signal: AbortSignal): number => {
    const key = Object.getOwnPropertySymbols(signal).find((s) => s.description === 'kDependantSignals');
    const set = key === undefined ? undefined : (signal as unknown as Record<symbol, Set<unknown> | undefined>)[key];
    return set?.size ?? 0;
  };

  it('leaves nothing on the session once its items are done, however many claims there were', () => {
    const session = new AbortController().signal;
    for (let i = 0; i < 2000; i++) {
      const lease = new CallLease(session, 60_000);
      if (i % 2 === 0) lease.hold(0);
      else {
        lease.hold(2);
        lease.done();
        lease.done();
      }
    }
    expect(getEventListeners(session, 'abort')).toHaveLength(0);
    expect(dependants(session)).toBe(0);
  });

  it('aborts with the session, with its reason, while items are open; not after they are done', () => {
    const session = new AbortController();
    const open = new CallLease(session.signal, 60_000);
    open.hold(1);
    const finished = new CallLease(session.signal, 60_000);
    finished.hold(1);
    finished.done();
    expect(getEventListeners(session.signal, 'abort')).toHaveLength(1);
    const lost = new Error('session lost');
    session.abort(lost);
    expect(open.signal.aborted).toBe(true);
    expect(open.signal.reason).toBe(lost);
    expect(open.abandoned).toBe(true);
    expect(finished.signal.aborted).toBe(false);
    expect(finished.abandoned).toBe(true); // it reads the session itself
    open.done();
    // Claimed under a session already lost: aborted from the start.
    const late = new CallLease(session.signal, 60_000);
    expect(late.signal.reason).toBe(lost);
  });

  it('aborts at its call deadline and at a stop, each with its own reason', async () => {
    const session = new AbortController().signal;
    const due = new CallLease(session, 20);
    due.hold(1);
    // Waited for by its own event: on a loaded machine a 60 ms timer can fire in the same turn as
    // the 20 ms one, before the deadline's setImmediate has aborted (call-deadline.ts).
    const started = Date.now();
    await new Promise((r) => due.signal.addEventListener('abort', r, { once: true }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(19);
    expect(due.signal.reason).toBeInstanceOf(CallDeadlineError);
    due.done();
    const stopped = new CallLease(session, 60_000);
    stopped.hold(1);
    stopped.releaseAtStop();
    expect(stopped.signal.reason).toBeInstanceOf(ReleasedAtStopError);
    expect(stopped.released).toBe(true);
    stopped.done();
    expect(getEventListeners(session, 'abort')).toHaveLength(0);
  });
});
