import { setMaxListeners } from 'node:events';
import { CallDeadlineError, ReleasedAtStopError, setCallDeadline, type CallDeadline } from '../call-deadline';

/**
 * The calls a worker makes for the items of one claim. They must be over by the
 * call deadline — with PostgreSQL another instance takes the leases of a holder
 * that is gone at that time (CONTRACT.md "Leases"), so no call may outlive it, even
 * in a process that does not know yet that it lost its session — and they stop at
 * once when the session they were claimed under is lost.
 *
 * The timer starts before the claim is sent, so it comes due no later than the deadline the
 * store records for the lease (the claim's `now` + callMs): a call gets its whole timeout
 * (TAG_API_TIMEOUT_MS / FORWARD_TIMEOUT_MS) when it starts with the claim, and another instance
 * takes a gone holder's leases at that deadline — at most the call timeout after the call
 * began (CONTRACT.md "Leases"). A holder that is only cut off from the database has aborted its
 * calls well before, when it lost its session.
 *
 * Like each call's own deadline, it acts at the end of the turn of the event loop in which it
 * came due, once an answer that had arrived by then is read (call-deadline.ts). That changes
 * nothing for a takeover: a holder that is gone has no calls left to count.
 */
export class CallLease {
  /** Aborts at the deadline or when the session is lost: given to every call made for these items. */
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private readonly timer: CallDeadline;
  private readonly onSessionLost: () => void;
  private open = 0;
  private releasedAtStop = false;
  /** The call deadline on the monotonic clock (performance.now()). */
  private readonly deadlineAt: number;

  constructor(private readonly session: AbortSignal, private readonly callMs: number) {
    this.deadlineAt = performance.now() + callMs;
    this.signal = this.controller.signal;
    // Every call of the claim, and each one waiting for its slot, listens to it.
    setMaxListeners(0, this.signal);
    this.timer = setCallDeadline(() => this.controller.abort(new CallDeadlineError(callMs)), callMs).unref();
    // Not AbortSignal.any([session, …]): the session's signal lives as long as the process, and
    // on Node 20 every signal made by `any` leaves an entry in its source's set of dependants
    // that is never removed — one per claim, ten a webhook, the heap growing until it runs out.
    // A listener, removed when the lease's last item is done, leaves nothing behind.
    this.onSessionLost = () => this.controller.abort(session.reason);
    if (session.aborted) this.controller.abort(session.reason);
    else {
      // Every claim in flight listens: no "possible EventTarget memory leak" warning for as many as are open.
      setMaxListeners(0, session);
      session.addEventListener('abort', this.onSessionLost, { once: true });
    }
  }

  /**
   * Aborts the signal now if the call deadline has passed by the clock though its timer has not
   * acted yet: a process frozen or starved past the deadline (a SIGSTOP, a paused VM, a claim
   * answered after a long block of the loop) runs what came due in an order of its own, and a
   * call could otherwise start after the deadline, when another instance may already have taken
   * the lease. Called just before a call starts.
   */
  checkDeadline(): void {
    if (!this.signal.aborted && performance.now() >= this.deadlineAt) this.controller.abort(new CallDeadlineError(this.callMs));
  }

  /** The claim returned `items`; with none the timer stops now. */
  hold(items: number): void {
    this.open = items;
    if (items === 0) this.end();
  }

  /** Nothing is open any more: the timer stops, and the session no longer holds this lease. */
  private end(): void {
    this.timer.clear();
    this.session.removeEventListener('abort', this.onSessionLost);
  }

  /** The session these items were claimed under is lost: their leases are abandoned, and no call may start for them. */
  get abandoned(): boolean {
    return this.session.aborted;
  }

  /**
   * The service is stopping, and its grace for calls in flight is over: their leases are
   * released (the items stay queued as they were, for the next holder) and their calls aborted.
   * No outcome is written for them, and no call starts for them any more.
   */
  releaseAtStop(): void {
    this.releasedAtStop = true;
    this.controller.abort(new ReleasedAtStopError());
  }

  /** Released by `releaseAtStop`. */
  get released(): boolean {
    return this.releasedAtStop;
  }

  /** One item is finished; the timer goes with the last. */
  done(): void {
    this.open -= 1;
    if (this.open <= 0) this.end();
  }
}
