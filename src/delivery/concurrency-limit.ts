/**
 * How many tag calls one account may have in flight, adapting to the API (issue 15): a slow API
 * that is not limited should not be held to a handful of calls at a time (8 calls of 200 ms are
 * 40/s), and an API that starts to queue or refuse should not be pushed harder.
 *
 * Per round (as many answers as the limit allows in flight):
 * - the limit grows by half while calls were using all of it, their latency stayed near the
 *   lowest seen (the API is not queueing them) and no 429, 5xx or network error came;
 * - it shrinks by a tenth when latency rose to twice the lowest (queueing: more in flight would
 *   only wait longer), and by half, once per round, on a 429, 5xx or network error.
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
  private round = ConcurrencyLimit.freshRound();

  private static freshRound() {
    return { answers: 0, ok: 0, latencySum: 0, saturated: false, troubled: false };
  }

  constructor(private readonly opts: ConcurrencyLimitOptions) {
    this.min = Math.max(1, opts.min ?? 1);
    this.current = Math.min(Math.max(this.min, opts.initial), opts.max);
  }

  get limit(): number {
    return this.current;
  }

  /**
   * One call ended after `latencyMs`. `inFlight`: the calls in flight when it started (itself
   * included), to tell whether the limit was what held calls back.
   */
  record(latencyMs: number, outcome: CallOutcome, inFlight: number): void {
    const r = this.round;
    if (outcome === 'ok') {
      this.minLatency = Math.min(this.minLatency, latencyMs);
      r.ok++;
      r.latencySum += latencyMs;
    } else if (!r.troubled) {
      // Once per round: the answers of calls already in flight tell nothing new.
      r.troubled = true;
      this.current = Math.max(this.min, Math.floor(this.current / 2));
    }
    r.answers++;
    if (inFlight >= this.current) r.saturated = true;
    if (r.answers < this.current) return;
    const mean = r.ok > 0 ? r.latencySum / r.ok : Infinity;
    if (!r.troubled) {
      if (mean > this.minLatency * QUEUEING_RATIO + FLAT_SLACK_MS) this.current = Math.max(this.min, Math.floor(this.current * 0.9));
      else if (r.saturated && mean <= this.minLatency * FLAT_RATIO + FLAT_SLACK_MS) this.current = Math.min(this.opts.max, Math.ceil(this.current * 1.5));
    }
    this.round = ConcurrencyLimit.freshRound();
    this.minLatency *= MIN_LATENCY_DRIFT;
  }
}
