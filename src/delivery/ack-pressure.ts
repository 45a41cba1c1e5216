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
 * until a window passes that is not. It never goes below its start (8 calls in flight, the
 * old fixed default), and light traffic (fewer than `minSamples` answers in a window) never
 * holds it back: a backlog with no webhooks arriving drains at full speed.
 */
export const ACK_PRESSURE = {
  targetMs: 20,
  windowMs: 100,
  minSamples: 10,
} as const;

export class AckPressure {
  private samples: number[] = [];
  private windowStart: number;
  private slowNow = false;

  constructor(private readonly now: () => number = () => performance.now()) {
    this.windowStart = now();
  }

  /** A webhook was answered after `ms`. */
  record(ms: number): void {
    this.roll();
    // Enough for a percentile; a flood beyond it says nothing new.
    if (this.samples.length < 4096) this.samples.push(ms);
  }

  /** Whether answers were slow in the last window that ended (with traffic enough to tell). */
  get slow(): boolean {
    this.roll();
    return this.slowNow;
  }

  private roll(): void {
    const { windowMs, minSamples, targetMs } = ACK_PRESSURE;
    const windows = Math.floor((this.now() - this.windowStart) / windowMs);
    if (windows < 1) return;
    const s = this.samples;
    // Windows that passed unseen after the one just ended had no answers: not slow.
    if (windows > 1 || s.length < minSamples) this.slowNow = false;
    else {
      s.sort((a, b) => a - b);
      this.slowNow = (s[Math.floor(s.length * 0.9)] as number) > targetMs;
    }
    this.samples = [];
    this.windowStart += windows * windowMs;
  }
}
