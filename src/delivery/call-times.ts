/** No tag call outlives its deadline (TAG_API_TIMEOUT_MS, 10 s by default): a start older than this was never made, or its answer lost. */
const FORGET_MS = 15_000;
const KEEP = 4096;
/** Accepted calls remembered for `acceptedWith` (the last fraction of a second's worth). */
const KEEP_ACCEPTED = 512;
/** The fastest round trip is forgotten slowly (per answer), so a faster period long ago does not distort the arrival times for good. */
const ROUND_TRIP_DRIFT = 1.001;

/** A 429 RateGate heard of, evaluated once the calls that started with or before it have answered. */
export interface Refusal {
  startedAt: number;
  /** When it most likely reached the API. */
  at: number;
  answeredAt: number;
  /** The pause it caused (or lengthened), if any. */
  pauseUntil: number | undefined;
  newRun: boolean;
  /** Evaluated by then, whatever is still in flight. */
  until: number;
}

/**
 * What RateGate knows of its account's calls' times: which have started and not answered yet,
 * and when each answered one most likely reached the API.
 *
 * A call starts at the slot `take` gave it and ends with the answer `accepted` or `limited` is
 * told of (which removes the latest start at or before the answered call's own), or with `ended`
 * (any other failure, or a call that was not made after all). A call that
 * wakes at its slot while the account is held does not start: it takes a new slot, naming
 * the one it had, which is forgotten as a call ended (OperationWorker, the drain simulation). A slot given to
 * a call that never starts (its lease lost, the service stopping) is forgotten after FORGET_MS;
 * the gate never waits on these starts for longer than a second anyway (rate-gate.ts).
 */
export class CallTimes {
  /** Starts of the calls in flight, ascending. */
  private starts: number[] = [];
  /** The latest accepted calls: start, and when it most likely reached the API. */
  private readonly accepted: { start: number; arrival: number }[] = [];
  /** The fastest round trips seen, of accepted calls and of 429s apart: a 429 is often answered long before an accepted call. */
  private readonly fastest = { accepted: Infinity, refused: Infinity };

  /** A call will start at `at`. */
  add(at: number): void {
    let i = this.starts.length;
    while (i > 0 && (this.starts[i - 1] as number) > at) i--;
    this.starts.splice(i, 0, at);
    if (this.starts.length > KEEP) this.starts.splice(0, this.starts.length - KEEP);
  }

  /**
   * The call that started at `startedAt` was answered at `answeredAt`: when it most likely reached
   * the API — its answer less the fastest round trip of its kind, if that is later than its start
   * (a call can only be late to leave, never early). An accepted call by accepted calls' (a 429's
   * 5 ms would place a 100 ms call 95 ms late), a 429 by the fastest of either (a 429 is no slower).
   */
  answered(startedAt: number, answeredAt: number, kind: 'accepted' | 'refused'): number {
    this.ended(startedAt);
    const roundTrip = answeredAt - startedAt;
    if (roundTrip >= 0) this.fastest[kind] = Math.min(this.fastest[kind] * ROUND_TRIP_DRIFT, roundTrip);
    const fastest = kind === 'refused' ? Math.min(this.fastest.accepted, this.fastest.refused) : this.fastest.accepted;
    const arrival = Number.isFinite(fastest) ? Math.max(startedAt, answeredAt - fastest) : startedAt;
    if (kind === 'accepted') {
      this.accepted.push({ start: startedAt, arrival });
      if (this.accepted.length > KEEP_ACCEPTED) this.accepted.splice(0, this.accepted.length - KEEP_ACCEPTED);
    }
    return arrival;
  }

  /**
   * The latest arrival of the accepted calls (of the last few hundred) that started at
   * `startedAt`, or -Infinity. Of calls started together, the API refused the last to reach it.
   */
  acceptedWith(startedAt: number): number {
    let latest = -Infinity;
    for (const a of this.accepted) if (a.start === startedAt) latest = Math.max(latest, a.arrival);
    return latest;
  }

  /** The call that started at `startedAt` is no longer in flight: answered, failed otherwise, or never started (the latest start at or before it goes). */
  ended(startedAt: number): void {
    const i = this.latestAtOrBefore(startedAt);
    if (i >= 0) this.starts.splice(i, 1);
  }

  /** Calls started at or before `t` (and by `now`) that have not answered. */
  inFlightBy(t: number, now: number): number {
    const firstKept = this.starts.findIndex((s) => s >= now - FORGET_MS);
    if (firstKept !== 0) this.starts.splice(0, firstKept < 0 ? this.starts.length : firstKept);
    return this.latestAtOrBefore(Math.min(t, now)) + 1;
  }

  private latestAtOrBefore(t: number): number {
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.starts[mid] as number) <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }
}
