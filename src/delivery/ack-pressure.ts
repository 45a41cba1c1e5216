/**
 * Webhook answers come first. The tag worker runs on the same event loop and the same
 * cores as the webhook route; at a thousand webhooks a second its calls, claims and
 * settles took as much CPU as the answers did, and the answers queued behind them (open
 * loop p99 of hundreds of ms while the worker emptied a backlog). A platform gives a
 * webhook a deadline (LINE: 2 s); a tag applied a few seconds later loses nothing, since
 * the desired state is on disk before the 200.
 *
 * So while webhooks arrive in numbers and their answers get slow, the worker's
 * concurrency shrinks: every window of WINDOW_MS with at least MIN_SAMPLES answers whose
 * 90th percentile is above TARGET_MS halves the share of its slots it may use (down to
 * one call in flight per account — it never stops); every other window gives back
 * RECOVER of the slots, so the worker is at full speed again within a second of the
 * burst. Light traffic (fewer than MIN_SAMPLES answers in a window) never holds it back.
 */
export const ACK_PRESSURE = {
  targetMs: 20,
  windowMs: 100,
  minSamples: 10,
  floor: 1 / 32,
  recover: 1 / 8,
} as const;

export type AckPressureSettings = { [K in keyof typeof ACK_PRESSURE]: number };

export class AckPressure {
  private samples: number[] = [];
  private windowStart: number;
  private current = 1;
  private readonly o: AckPressureSettings;

  constructor(
    settings: Partial<AckPressureSettings> = {},
    private readonly now: () => number = () => performance.now(),
  ) {
    this.o = { ...ACK_PRESSURE, ...settings };
    this.windowStart = now();
  }

  /** A webhook was answered after `ms`. */
  record(ms: number): void {
    this.roll();
    // Enough for a percentile; a flood beyond it says nothing new.
    if (this.samples.length < 4096) this.samples.push(ms);
  }

  /** The share of its slots (0 < share ≤ 1) the worker may use now. */
  get share(): number {
    this.roll();
    return this.current;
  }

  /** `limit` slots scaled by the share; at least one. */
  scale(limit: number): number {
    return Math.max(1, Math.round(limit * this.share));
  }

  private roll(): void {
    const { windowMs, minSamples, targetMs, floor, recover } = this.o;
    const windows = Math.floor((this.now() - this.windowStart) / windowMs);
    if (windows < 1) return;
    let quiet = windows;
    const s = this.samples;
    if (s.length >= minSamples) {
      quiet--;
      s.sort((a, b) => a - b);
      const p90 = s[Math.floor(s.length * 0.9)] as number;
      this.current = p90 > targetMs ? Math.max(floor, this.current / 2) : Math.min(1, this.current + recover);
    }
    // Windows without traffic to speak of (the one just ended, or those that passed unseen).
    this.current = Math.min(1, this.current + recover * quiet);
    this.samples = [];
    this.windowStart += windows * windowMs;
  }
}
