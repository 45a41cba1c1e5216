/**
 * Keeps one provider at the rate it accepts.
 *
 * - A `Retry-After` pauses every call to the provider until then, for at most
 *   `maxPauseMs` (RETRY_MAX_MS): the value comes from the other side, and
 *   `Retry-After: 3000000000` once stopped a provider for good (issue 17).
 * - A 429 without one sets a rate cap just below the rate that was being
 *   achieved; calls are then paced evenly at the cap. While no 429 comes the
 *   cap creeps up again (additive increase), so a provider whose limit was
 *   raised is not under-used for long. Without any 429 there is no cap at all.
 *
 * The result: a rate-limited API is drained at its limit instead of hammered,
 * with only an occasional 429 when the cap probes upwards.
 */
export interface RateGateOptions {
  now: () => number;
  /** The longest pause a `Retry-After` may cause (RETRY_MAX_MS). */
  maxPauseMs: number;
  /** How much the cap grows per second without a 429 (requests/s). */
  increasePerSecond?: number;
  /** The fraction of the measured rate that becomes the cap after a 429. */
  backoffFactor?: number;
}

export class RateGate {
  private pausedUntil = 0;
  private cap: number | undefined;
  private nextSlot = 0;
  private lastIncrease = 0;
  private lastLimitedAt = 0;
  /** Start times of recent calls, for the achieved rate (a ring of the last second). */
  private recent: number[] = [];
  private readonly increase: number;
  private readonly factor: number;

  constructor(private readonly opts: RateGateOptions) {
    this.increase = opts.increasePerSecond ?? 5;
    this.factor = opts.backoffFactor ?? 0.9;
  }

  /** Milliseconds to wait before the next call may start (0: go). */
  waitMs(): number {
    const now = this.opts.now();
    if (now < this.pausedUntil) return this.pausedUntil - now;
    if (this.cap === undefined) return 0;
    this.grow(now);
    return Math.max(0, this.nextSlot - now);
  }

  /**
   * Reserves the next slot and returns how long to wait for it (0: start now).
   * Under a cap, calls claimed together are spread evenly instead of sent as a burst.
   */
  take(): number {
    const now = this.opts.now();
    let wait = 0;
    if (this.cap !== undefined) {
      const slot = Math.max(now, this.nextSlot);
      this.nextSlot = slot + 1000 / this.cap;
      wait = slot - now;
    }
    this.recent.push(now + wait);
    if (this.recent.length > 4096) this.recent.splice(0, this.recent.length - 2048);
    return wait;
  }

  /** How many calls may start right now without waiting. */
  available(max: number): number {
    if (this.waitMs() > 0) return 0;
    if (this.cap === undefined) return max;
    return Math.max(1, Math.min(max, Math.floor(this.cap / 20)));
  }

  /** The provider answered 429 (or asked for a pause). */
  limited(retryAfterMs: number | undefined): void {
    const now = this.opts.now();
    if (retryAfterMs !== undefined && retryAfterMs > 0) {
      this.pausedUntil = Math.max(this.pausedUntil, now + Math.min(retryAfterMs, this.opts.maxPauseMs));
    }
    // Several in-flight calls may meet the same limit; count it once per 100 ms.
    if (now - this.lastLimitedAt < 100) return;
    this.lastLimitedAt = now;
    const achieved = this.achievedRate(now);
    const base = this.cap === undefined ? achieved : Math.min(this.cap, Math.max(achieved, 1));
    this.cap = Math.max(1, base * this.factor);
    this.lastIncrease = now;
    this.nextSlot = Math.max(this.nextSlot, now + 1000 / this.cap);
  }

  get rateCap(): number | undefined {
    return this.cap;
  }

  private achievedRate(now: number): number {
    const since = now - 1000;
    let i = this.recent.length;
    while (i > 0 && (this.recent[i - 1] ?? 0) >= since) i--;
    this.recent = this.recent.slice(i);
    return this.recent.length; // calls started in the last second
  }

  private grow(now: number): void {
    if (this.cap === undefined) return;
    const elapsed = now - this.lastIncrease;
    if (elapsed >= 1000) {
      this.cap += (this.increase * elapsed) / 1000;
      this.lastIncrease = now;
    }
  }
}
