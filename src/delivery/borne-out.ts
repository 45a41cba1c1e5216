/** An estimate is borne out once calls went at `BORNE_OUT_PACE` × it or more this long without a run of 429s… */
const BORNE_OUT_MS = 5000;
/** …so one more than a few per cent too high has emptied a bucket of the size usual for its rate by then (20 at 200/s: 7 %). */
const BORNE_OUT_PACE = 0.9;

/**
 * Whether the API bore a rate gate's estimate out (RateGateOptions.onConfirmed): counts the calls
 * accepted since the gate's latest run of 429s or pause (`since`, which starts the count anew)
 * and says so once per `since`, when they went at 0.9 × the estimate or more for 5 s.
 */
export class BorneOut {
  private countingFrom = -Infinity;
  private accepted = 0;
  private toldFrom = -Infinity;

  /**
   * A call placed at `placedAt` was accepted, at `now`; the stretch began at `since`. True the
   * first time the stretch bears `rate` out (`weighing`: a 429 is still being weighed, wait).
   */
  acceptedCall(since: number, placedAt: number, now: number, rate: number, weighing: boolean): boolean {
    if (this.toldFrom === since) return false;
    if (this.countingFrom !== since) {
      this.countingFrom = since;
      this.accepted = 0;
    }
    if (placedAt >= since) this.accepted++;
    const ms = now - since;
    if (weighing || ms < BORNE_OUT_MS || this.accepted < (BORNE_OUT_PACE * rate * ms) / 1000) return false;
    this.toldFrom = since;
    return true;
  }
}
