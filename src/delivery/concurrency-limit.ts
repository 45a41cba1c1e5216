/**
 * How many tag calls one account may have in flight, adapting to the API (issue 15): a slow API
 * that is not limited should not be held to a handful of calls at a time (8 calls of 200 ms are
 * 40/s), and an API that starts to queue or refuse should not be pushed harder.
 *
 * Per round (as many answers as the limit allows in flight):
 * - the limit grows by half while calls were using all of it, their latency stayed near the
 *   lowest seen (the API is not queueing them) and no 429, 5xx or network error came;
 * - it shrinks by a tenth when latency rose to twice the lowest (queueing: more in flight would
 *   only wait longer), and by half on a 429, 5xx or network error — once for the calls that
 *   were in flight together.
 *
 * It never leaves [min, max]. With PROVIDER_CONCURRENCY set, max is that value and the limit
 * starts there; unset, it starts at 8 and may grow to 32 (the connections one provider client
 * keeps, src/providers/http.ts).
 */
export interface ConcurrencyLimitOptions {
  initial: number;
  max: number;
  min?: number;
}

/** Latency within this of the lowest seen (ratio, plus a few ms of jitter) counts as flat. */
const FLAT_RATIO = 1.5;
const FLAT_SLACK_MS = 5;
const QUEUEING_RATIO = 2;
/** Per round the lowest latency is forgotten a little, so a faster period long ago does not hold the limit down forever. */
const MIN_LATENCY_DRIFT = 1.01;

export type CallOutcome = 'ok' | 'limited' | 'failed';

export class ConcurrencyLimit {
  private current: number;
  private readonly min: number;
  private minLatency = Infinity;
  private lastDecreaseAt = -Infinity;
  private round = ConcurrencyLimit.freshRound();

  private static freshRound() {
    return { answers: 0, ok: 0, latencySum: 0, saturated: false };
  }

  constructor(private readonly opts: ConcurrencyLimitOptions) {
    this.min = Math.max(1, opts.min ?? 1);
    this.current = Math.min(Math.max(this.min, opts.initial), opts.max);
  }

  get limit(): number {
    return this.current;
  }

  /**
   * One call, started at `startedAt`, ended at `endedAt` (epoch ms). `inFlight`: the calls in
   * flight when it started (itself included), to tell whether the limit held calls back.
   */
  record(startedAt: number, endedAt: number, outcome: CallOutcome, inFlight: number): void {
    const r = this.round;
    const latencyMs = endedAt - startedAt;
    if (outcome === 'ok') this.minLatency = Math.min(this.minLatency, latencyMs);
    // Calls in flight when the limit was cut tell nothing about the new limit.
    if (startedAt < this.lastDecreaseAt) return;
    if (outcome === 'ok') {
      r.ok++;
      r.latencySum += latencyMs;
    } else {
      this.current = Math.max(this.min, Math.floor(this.current / 2));
      this.lastDecreaseAt = endedAt;
      this.round = ConcurrencyLimit.freshRound();
      return;
    }
    r.answers++;
    if (inFlight >= this.current) r.saturated = true;
    if (r.answers < this.current) return;
    const mean = r.latencySum / r.ok;
    if (mean > this.minLatency * QUEUEING_RATIO + FLAT_SLACK_MS) this.current = Math.max(this.min, Math.floor(this.current * 0.9));
    else if (r.saturated && mean <= this.minLatency * FLAT_RATIO + FLAT_SLACK_MS) this.current = Math.min(this.opts.max, Math.ceil(this.current * 1.5));
    this.round = ConcurrencyLimit.freshRound();
    this.minLatency *= MIN_LATENCY_DRIFT;
  }
}
