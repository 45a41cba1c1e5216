/*
 * The deadline of an outbound call (a tag API call, a forward, the calls of one lease),
 * shared by the providers and the workers.
 */

/**
 * How much later than a call's deadline the HTTP client's own timeouts (undici's header and
 * body timeouts, kept as backstops) are set, so that they never act before the deadline does.
 */
export const BACKSTOP_SLACK_MS = 1000;

/** A deadline set with `setCallDeadline`. */
export interface CallDeadline {
  /** The call is over: the deadline will not act. */
  clear(): void;
  /** Does not keep the process alive by itself. */
  unref(): this;
}

/**
 * Calls `onPassed` once `ms` have passed, but only after the event loop has read what had
 * already arrived by then: a plain timer that comes due while the loop is busy (a long
 * commit, a GC pause, a starved process) runs before the I/O that was waiting with it, so
 * an answer that reached the socket before the deadline was thrown away as a timeout and
 * the call made again. Here the timer only schedules `onPassed` for the end of that turn of
 * the loop (`setImmediate`, after its I/O); an answer read meanwhile settles the call, whose
 * `clear()` then stops `onPassed`. On a loop that is not busy that is a fraction of a
 * millisecond past `ms`.
 */
export function setCallDeadline(onPassed: () => void, ms: number): CallDeadline {
  let immediate: NodeJS.Immediate | undefined;
  let refed = true;
  const timer = setTimeout(() => {
    immediate = setImmediate(onPassed);
    if (!refed) immediate.unref();
  }, ms);
  const deadline: CallDeadline = {
    clear() {
      clearTimeout(timer);
      if (immediate !== undefined) clearImmediate(immediate);
    },
    unref() {
      refed = false;
      timer.unref();
      immediate?.unref();
      return deadline;
    },
  };
  return deadline;
}

/** The reason a lease's calls are aborted with at its call deadline. */
export class CallDeadlineError extends Error {
  constructor(callMs: number) {
    super(`the call deadline of its lease passed (${callMs} ms after the claim)`);
    this.name = 'CallDeadlineError';
  }
}

/** The reason a lease's calls are aborted with when the service stops before they end. */
export class ReleasedAtStopError extends Error {
  constructor() {
    super('the service is stopping: the grace for calls in flight is over and the lease was released');
    this.name = 'ReleasedAtStopError';
  }
}

/**
 * The lease's call deadline, when it is what ended a call under way (`abortedBefore`: the
 * signal was aborted before the call started, so no call was made). The lease's deadline
 * counts from the claim, so it passes a moment before the call's own: it is the call's timeout.
 */
export function callDeadlineOf(signal: AbortSignal | undefined, abortedBefore: boolean): CallDeadlineError | undefined {
  return !abortedBefore && signal?.aborted === true && signal.reason instanceof CallDeadlineError ? signal.reason : undefined;
}
