/**
 * The fake tag API's rate limiter: a token bucket refilled at `perSecond`, holding at most
 * `burst` tokens. `take()` answers 0 when a request may pass, else how many whole seconds
 * (at least 1) until one may — what the fake sends as Retry-After.
 */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    readonly perSecond: number,
    private readonly burst = perSecond,
    now = Date.now(),
  ) {
    this.tokens = burst;
    this.at = now;
  }

  take(now = Date.now()): number {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) * this.perSecond) / 1000);
    this.at = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - this.tokens) / this.perSecond));
  }
}
