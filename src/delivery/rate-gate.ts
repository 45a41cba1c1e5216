import { AcceptedRateEstimator, type RateEstimate } from './rate-estimate';

/**
 * Keeps one provider account at the rate it accepts (one gate per account: one account's 429s
 * never slow another).
 *
 * - A `Retry-After` pauses every call to the account until then, for at most `maxPauseMs`
 *   (RETRY_MAX_MS): the value comes from the other side, and `Retry-After: 3000000000` once
 *   stopped a provider for good (issue 17). Every 429 that says `Retry-After: 1` costs a whole
 *   second, so the gate aims to meet as few as possible.
 * - Without any 429 there is no cap at all.
 * - After a 429 the limit is estimated from what the API actually accepted (rate-estimate.ts),
 *   and calls are paced evenly at a cap that follows it: just below the estimate right after a
 *   429 (so a bucket that ran empty fills a little), back at the estimate within about a second
 *   (quick recovery while far below it), then probing above it gently at first and faster the
 *   longer no 429 comes (a cubic in the time since: a raised limit is found within a minute or
 *   so, while a limit that stays put is met rarely; an estimate from a few calls only is
 *   probed within seconds).
 * - A pause already lets the bucket refill, so after one the cap starts at the estimate itself.
 */
export interface RateGateOptions {
  now: () => number;
  /** The longest pause a `Retry-After` may cause (RETRY_MAX_MS). */
  maxPauseMs: number;
  /** The cap just after a 429 without a pause, as a fraction of the estimated limit (default 0.8). */
  backoffFactor?: number;
  /**
   * Seconds after which the cubic probe has doubled the cap over the estimate, when the estimate
   * rests on long evidence (default 60) and when it rests on a few calls only (default 5).
   */
  probeSeconds?: { confident: number; unsure: number };
}

/** How fast the cap climbs back to the estimate after a 429 (per second, exponential). */
const RECOVERY_PER_SECOND = 3;
/** A cap above this multiple of the estimate is a probe; a refusal below it means the estimate is too high. */
const PROBING_ABOVE = 1.02;

export class RateGate {
  private pausedUntil = 0;
  private nextSlot = 0;
  /** When the latest run of 429s began (or its pause ended), the origin of the cap's curve. */
  private since = 0;
  /** The cap at `since`, as a fraction of the estimate. */
  private startFactor = 1;
  private lastLimitedAt = -Infinity;
  private estimate: RateEstimate | undefined;
  private readonly estimator = new AcceptedRateEstimator();
  private readonly backoff: number;
  private readonly probe: { confident: number; unsure: number };

  constructor(private readonly opts: RateGateOptions) {
    this.backoff = opts.backoffFactor ?? 0.8;
    this.probe = opts.probeSeconds ?? { confident: 60, unsure: 5 };
  }

  /** Milliseconds to wait before the next call may start (0: go). */
  waitMs(): number {
    const now = this.opts.now();
    if (now < this.pausedUntil) return this.pausedUntil - now;
    if (this.estimate === undefined) return 0;
    return Math.max(0, this.nextSlot - now);
  }

  /** Milliseconds the account stays paused by a `Retry-After` (0: not paused). */
  pausedMs(): number {
    return Math.max(0, this.pausedUntil - this.opts.now());
  }

  /**
   * Reserves the next slot and returns how long to wait for it (0: start now).
   * Under a cap, calls claimed together are spread evenly instead of sent as a burst.
   */
  take(): number {
    const now = this.opts.now();
    const cap = this.rateCap;
    if (cap === undefined) return Math.max(0, this.pausedUntil - now);
    const slot = Math.max(now, this.nextSlot, this.pausedUntil);
    this.nextSlot = slot + 1000 / cap;
    return slot - now;
  }

  /** How many calls may start right now without waiting. */
  available(max: number): number {
    if (this.waitMs() > 0) return 0;
    const cap = this.rateCap;
    if (cap === undefined) return max;
    // 50 ms worth of calls per claim: evenly paced, without a claim per call.
    return Math.max(1, Math.min(max, Math.floor(cap / 20)));
  }

  /** A call that started at `startedAt` (the time `take` said) was accepted. */
  accepted(startedAt: number): void {
    this.estimator.accepted(startedAt);
  }

  /** An answer other than 429 asked for a pause (a 503 with `Retry-After`): no evidence about the rate. */
  pause(retryAfterMs: number): void {
    if (retryAfterMs <= 0) return;
    this.pausedUntil = Math.max(this.pausedUntil, this.opts.now() + Math.min(retryAfterMs, this.opts.maxPauseMs));
    this.nextSlot = Math.max(this.nextSlot, this.pausedUntil);
  }

  /**
   * The provider answered 429 to a call that started at `startedAt` (default: now). True when
   * it begins a new run of refusals (the others came back from calls already in flight).
   */
  limited(retryAfterMs: number | undefined, startedAt = this.opts.now()): boolean {
    const now = this.opts.now();
    const paused = retryAfterMs !== undefined && retryAfterMs > 0;
    if (paused) this.pause(retryAfterMs);
    // A call that started before the gate heard of the latest run belongs to that run.
    const newRun = startedAt >= this.lastLimitedAt;
    const before = this.estimate;
    const capThen = this.rateCap;
    // Every refusal refines the estimate (the calls in flight with the first say most).
    this.estimate = this.estimator.refused(startedAt, paused ? this.pausedUntil : undefined, now);
    // Refused while not probing above the estimate: the estimate was too high.
    if (newRun && before !== undefined && capThen !== undefined && capThen <= before.rate * PROBING_ABOVE) this.estimate = this.estimator.tooHigh(capThen);
    if (this.pausedUntil > now) {
      // The pause refills the bucket: the curve starts at the estimate when it ends.
      this.since = this.pausedUntil;
      this.startFactor = 1;
    } else if (newRun) {
      this.since = now;
      this.startFactor = this.backoff;
    }
    if (newRun) this.lastLimitedAt = now;
    // The next call waits at least one slot at the new cap (a single refused call with nothing
    // accepted before it gives 1/s: a second, even when RETRY_MAX_MS cuts the pause shorter).
    const cap = this.rateCap;
    if (newRun && cap !== undefined) this.nextSlot = Math.max(this.nextSlot, now + 1000 / cap);
    this.nextSlot = Math.max(this.nextSlot, this.pausedUntil);
    return newRun;
  }

  /** The pacing rate in requests/s, or undefined while no 429 has come. */
  get rateCap(): number | undefined {
    const e = this.estimate;
    if (e === undefined) return undefined;
    const t = Math.max(0, this.opts.now() - this.since) / 1000;
    const below = (1 - this.startFactor) * Math.exp(-RECOVERY_PER_SECOND * t);
    const scale = e.confident ? this.probe.confident : this.probe.unsure;
    const above = (t / scale) ** 3;
    return Math.max(1, e.rate * (1 - below + above));
  }

  /** The estimated limit and what it rests on, or undefined while no 429 has come. */
  get limitEstimate(): RateEstimate | undefined {
    return this.estimate;
  }
}
