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

/**
 * When to try again after `delay`, or undefined to give up now. The last attempt lands on the
 * give-up moment rather than beyond it — but never sooner than `minMs` after this one: with
 * less than that left, two calls back to back to an API that is struggling would be all the
 * retry there is, so the work gives up instead (RETRY_MIN_MS is the shortest wait promised).
 */
export function retryDueAt(now: number, delay: number, giveUpAt: number, minMs: number): number | undefined {
  const dueAt = Math.min(now + delay, giveUpAt);
  return dueAt - now < minMs ? undefined : dueAt;
}
