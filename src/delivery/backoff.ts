/**
 * Exponential backoff with "full jitter" between `minMs` and `maxMs`:
 * attempt 0 waits about minMs, each further attempt doubles the ceiling,
 * and the wait is drawn uniformly from [ceiling/2, ceiling] so that many
 * operations failing together do not retry in lockstep.
 *
 * With the defaults (1 s … 1 h) the delays sum to roughly a day over ~30
 * attempts, matching RETRY_GIVE_UP_MS.
 */
export interface BackoffOptions {
  minMs: number;
  maxMs: number;
  random?: () => number;
}

export function backoffDelay(attempt: number, opts: BackoffOptions): number {
  const random = opts.random ?? Math.random;
  const exp = Math.min(opts.maxMs, opts.minMs * 2 ** Math.min(attempt, 40));
  const ceiling = Math.max(opts.minMs, exp);
  const floor = Math.max(opts.minMs, ceiling / 2);
  return Math.round(floor + (ceiling - floor) * random());
}

/**
 * The delay before the next attempt: not before `retryAfterMs` when the other side asked
 * for a pause, but never longer than `maxMs` — a `Retry-After` is whatever the other side
 * sends (CONTRACT.md "Retries": a pause lasts at most RETRY_MAX_MS).
 */
export function nextAttemptDelay(attempt: number, opts: BackoffOptions, retryAfterMs?: number): number {
  const delay = backoffDelay(attempt, opts);
  return retryAfterMs !== undefined && retryAfterMs > delay ? Math.min(retryAfterMs, opts.maxMs) : delay;
}

/** The window an item is retried in: from `startedAt` (asked for, received) for `giveUpMs`. */
export interface RetryWindow {
  startedAt: number;
  giveUpMs: number;
}

/**
 * The least wait before a last attempt squeezed in before the window ends: RETRY_MIN_MS, the
 * shortest wait promised — but at most a quarter of the window, so that a RETRY_MIN_MS about as
 * long as a short window (forwards' 60 s) still leaves a forward its retry.
 */
function lastAttemptGapMs(window: RetryWindow, minMs: number): number {
  return Math.min(minMs, window.giveUpMs / 4);
}

/**
 * When to try again after `delay`, or undefined to give up now. The last attempt lands on the
 * end of the window rather than beyond it — but not sooner than lastAttemptGapMs after this
 * one: with less than that left, two calls back to back to an API that is struggling would be
 * all the retry there is (seen: 53 ms apart), so the work gives up instead.
 */
export function retryDueAt(now: number, delay: number, window: RetryWindow, minMs: number): number | undefined {
  const dueAt = Math.min(now + delay, window.startedAt + window.giveUpMs);
  return dueAt - now < lastAttemptGapMs(window, minMs) ? undefined : dueAt;
}

/** Why the work gave up before its window ended, for its reason ('' when the window had ended). */
export function gaveUpEarlyNote(now: number, window: RetryWindow, minMs: number): string {
  const end = window.startedAt + window.giveUpMs;
  if (now >= end) return '';
  return `: ${end - now} ms were left, less than the ${lastAttemptGapMs(window, minMs)} ms a last attempt waits (RETRY_MIN_MS, at most a quarter of the window)`;
}
