/** No tag call outlives its deadline (TAG_API_TIMEOUT_MS, 10 s by default): a start older than this was never made, or its answer lost. */
const FORGET_MS = 15_000;
/** Calls in flight remembered at most (the one given its slot longest ago goes first). */
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
 * One call RateGate gave a slot, from `take` until its answer (`accepted`, `limited`) or `ended`:
 * the worker only passes it back. `startedAt` is the slot until the worker says when the call
 * actually started (`started`); only CallTimes moves it. Neither a timer that wakes early nor the
 * order the clock is read in changes which call an answer frees.
 */
export interface GateCall {
  readonly startedAt: number;
}

/** CallTimes's own view of a call: the start it moves. */
type Call = { startedAt: number };

/**
 * What RateGate knows of its account's calls' times: which have a slot and have not answered
 * yet, and when each answered one most likely reached the API.
 *
 * A call is known by its handle from the slot `take` gave it until its answer or `ended` (any
 * other failure, or a call not made after all). A call that wakes at its slot while the
 * account is held takes a new one: the same handle, moved. A call given a slot that never
 * starts and is never told of (its lease lost, the service stopping) is forgotten FORGET_MS after
 * its slot; the gate never waits on such a call for longer than a second anyway (rate-gate.ts).
 */
export class CallTimes {
  /** The calls in flight, in the order they were given their (latest) slot. */
  private readonly inFlight = new Set<Call>();
  /** The latest accepted calls: start, and when it most likely reached the API. */
  private readonly accepted: { start: number; arrival: number }[] = [];
  /** The fastest round trips seen, of accepted calls and of 429s apart: a 429 is often answered long before an accepted call. */
  private readonly fastest = { accepted: Infinity, refused: Infinity };

  /** A new call will start at `at`; or `call`, given a slot before, will start there instead. */
  slot(at: number, call?: GateCall): GateCall {
    const c: Call = call === undefined ? { startedAt: at } : (call as Call);
    c.startedAt = at;
    this.inFlight.delete(c);
    this.inFlight.add(c);
    if (this.inFlight.size > KEEP) this.inFlight.delete(this.inFlight.values().next().value as Call);
    return c;
  }

  /** The call started at `at` (its slot is only when it was meant to). */
  started(call: GateCall, at: number): void {
    (call as Call).startedAt = at;
  }

  /**
   * `call` was answered at `answeredAt`: when it most likely reached the API — its answer less
   * the fastest round trip of its kind, if that is later than its start (a call can only be late
   * to leave, never early). An accepted call by accepted calls' (a 429's 5 ms would place a
   * 100 ms call 95 ms late), a 429 by the fastest of either (a 429 is no slower).
   */
  answered(call: GateCall, answeredAt: number, kind: 'accepted' | 'refused'): number {
    this.ended(call);
    const { startedAt } = call;
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

  /** `call` is no longer in flight: answered, failed otherwise, or never started. */
  ended(call: GateCall): void {
    this.inFlight.delete(call as Call);
  }

  /** Calls started at or before `t` (and by `now`) that have not answered; forgets those that started FORGET_MS before `now`. */
  inFlightBy(t: number, now: number): number {
    const by = Math.min(t, now);
    let count = 0;
    for (const c of this.inFlight) {
      if (c.startedAt < now - FORGET_MS) this.inFlight.delete(c);
      else if (c.startedAt <= by) count++;
    }
    return count;
  }
}
