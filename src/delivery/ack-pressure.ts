/**
 * Webhook answers come first. The tag worker runs on the same event loop and the same
 * cores as the webhook route. Emptying a backlog at 32 calls in flight took as much CPU
 * as the answers did: at 1,000 webhooks a second on SQLite the answers' p99 was 250–300 ms
 * with the adaptive worker keeping up, 30 ms with 8 calls in flight (bench/ack's open loop).
 * A platform gives a webhook a deadline (LINE: 2 s); a tag applied a few seconds later loses
 * nothing, since its desired state is on disk before the 200.
 *
 * So the adaptive worker (PROVIDER_CONCURRENCY unset) uses more than its starting
 * concurrency only while answers are quick: a window of `windowMs` with at least
 * `minSamples` answers whose 90th percentile is above `targetMs` makes the answers `slow`
 * for `holdMs` after that window, however quick the windows in between. Released after one
 * quick window, as it once was, the worker went back to the 32 calls it had grown to and slowed
 * the answers again within a window or two (at 1,000 webhooks a second on SQLite the answers'
 * per-second p99 was 22–75 ms that way, 11–43 ms with the worker fixed at 8). It never goes below its
 * start (8 calls in flight, the old fixed default), and light traffic (fewer than `minSamples`
 * answers in a window) ends the hold at once: a backlog with no webhooks arriving drains at full speed.
 */
export const ACK_PRESSURE = {
  targetMs: 20,
  windowMs: 100,
  minSamples: 10,
  holdMs: 1000,
} as const;

export class AckPressure {
  private samples: number[] = [];
  private windowStart: number;
  /** The end of the window that was last seen slow; answers are slow until holdMs after it. */
  private slowUntil = -Infinity;

  constructor(private readonly now: () => number = () => performance.now()) {
    this.windowStart = now();
  }

  /** A webhook was answered after `ms`. */
  record(ms: number): void {
    this.roll();
    // Enough for a percentile; a flood beyond it says nothing new.
    if (this.samples.length < 4096) this.samples.push(ms);
  }

  /** Whether a window that ended within the last holdMs had slow answers (with traffic enough to tell), and traffic has not turned light since. */
  get slow(): boolean {
    this.roll();
    return this.now() < this.slowUntil;
  }

  private roll(): void {
    const { windowMs, minSamples, targetMs, holdMs } = ACK_PRESSURE;
    const windows = Math.floor((this.now() - this.windowStart) / windowMs);
    if (windows < 1) return;
    const s = this.samples;
    const ended = this.windowStart + windowMs;
    // Windows that passed unseen after the one just ended had no answers: light traffic ends the hold.
    if (windows > 1 || s.length < minSamples) this.slowUntil = -Infinity;
    else {
      s.sort((a, b) => a - b);
      if ((s[Math.floor(s.length * 0.9)] as number) > targetMs) this.slowUntil = ended + holdMs;
    }
    this.samples = [];
    this.windowStart += windows * windowMs;
  }
}
