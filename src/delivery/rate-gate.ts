import { CallTimes, type GateCall, type Refusal } from './call-times';
import { BorneOut } from './borne-out';
import { capCurve } from './cap-curve';
import { AcceptedRateEstimator, type RateEstimate } from './rate-estimate';

/**
 * Keeps one provider account at the rate it accepts (one gate per account: one account's 429s
 * never slow another).
 *
 * - A `Retry-After` pauses every call to the account until then, for at most `maxPauseMs`
 *   (RETRY_MAX_MS: `Retry-After: 3000000000` once stopped a provider for good). Each costs its
 *   whole pause, so the gate aims to meet as few 429s as possible. The worker keeps the pause in
 *   the store for the other instances and the next start (operation-worker.ts, stored-pauses.ts).
 * - Without any 429 there is no cap at all; a pause lets the bucket refill, so after one the cap
 *   starts at the estimate itself.
 * - After a 429 the limit is estimated from what the API actually accepted (rate-estimate.ts),
 *   and calls are paced evenly at a cap that follows it: just below the estimate right after a
 *   429 (so a bucket that ran empty fills a little), back at the estimate within about a second
 *   (quick recovery while far below it), then probing above it gently at first and faster the
 *   longer no 429 comes (a cubic in the time since: a raised limit is found within a minute or
 *   so, while a limit that stays put is met rarely; an estimate from a few calls only is
 *   probed within seconds).
 * - A 429 with hardly any call accepted before it since the first call (or the first after an
 *   idle second: the bucket is only assumed full then, and another client of the account —
 *   another instance, or the one before a restart — may just have emptied it) says that the
 *   bucket is empty, not how fast it refills: it gives no estimate (rate-estimate.ts). Calls wait
 *   a second (or the `Retry-After`, if longer) while the bucket refills, then go on unpaced as
 *   before any 429, and the next run of 429s is treated as the first. (A bucket of a token or
 *   two looks the same at first, and pays that second once per drain.)
 * - Nothing is sent while the account is paused, so a paused second never counts as a pace the
 *   API accepted (the 'halved' estimates count from the end of the latest pause).
 * - Where 429s pause the account (`Retry-After`), every run of them costs the whole pause, so:
 *   until an estimate rests on long evidence it is held to half the pace the API accepted before
 *   the first run (that pace was above the limit, since the bucket ran empty; the calls in flight
 *   with the first 429 are a few tokens' worth, too few to go by) and probed above faster
 *   (doubled in 3 s), so that the stretch to the second run is long and crosses the limit
 *   gently — what the bucket fit needs. (Where that pace was only a little above the limit, as
 *   when a drain starts while its webhooks still arrive, half of it is far below: a 429 on a
 *   climb that left no fit moves the next start halfway up to 0.9 × the pace then, or every
 *   stretch would repeat the last one and the fit never come.) Once the fit is there the cap
 *   aims 1.5 % below it, probes as gently as any long evidence, and a 429 while not probing
 *   lowers the estimate to the rate that would have emptied a bucket of the fitted size just
 *   then (at most 0.97 × the cap, at least 0.8 ×) instead of 0.9 × the cap, keeping it above
 *   what the calls in flight say.
 * - Calls are claimed a little ahead of their slots, so the time a claim takes is not lost.
 * - The bucket counts a call when it arrives, which the start time says poorly under load (calls
 *   started together leave one after another): a call is placed at its answer less the fastest
 *   round trip seen, if that is later than its start — an accepted call's by accepted calls' own
 *   (429s are often much faster), a 429 no earlier than the calls accepted that started with it.
 * - Each call is known by the handle `take` gives it, and placed by when it actually started
 *   (`started`), not by its slot: an early timer or a clock read a ms apart changes nothing.
 * - A 429 is evaluated only once every call that started with or before it has answered or
 *   ended otherwise (`ended`), at most a second (or the pause), and nothing new is sent
 *   meanwhile; its `Retry-After` pauses at once. A rate limiter answers 429 at the API's edge in
 *   a few ms, an accepted call after the write (50–200 ms): counted at the 429, a drain begun on
 *   a full bucket looked like one another client had emptied, then like one that accepted next
 *   to nothing (README, *Rate limits*).
 * - Every 429 is taken for the bucket running empty: refusals unrelated to the rate slow the
 *   account far below what it accepts (rate-estimate.test.ts, marked failing; README).
 * - A gate may start from what an earlier one learned (`startFrom`: the estimate kept in the store
 *   by the gate before a restart, or by the account's previous caller; stored-estimates.ts): as
 *   if it had just fitted that estimate — paced just below it from its first call, probing
 *   gently — instead of unpaced until a first run of 429s and at half pace until a second. One
 *   that is too high is lowered by the next 429, as a fit is; one too low is found by the probe.
 */
export interface RateGateOptions {
  now: () => number;
  /** The longest pause a `Retry-After` may cause (RETRY_MAX_MS). */
  maxPauseMs: number;
  /** The cap just after a 429 without a pause, as a fraction of the estimated limit (default 0.8). */
  backoffFactor?: number;
  /**
   * Seconds after which the cubic probe has doubled the cap over the estimate, when the estimate
   * rests on long evidence (default 60) and when it rests on a few calls only (default 5).
   */
  probeSeconds?: { confident: number; unsure: number };
  /** A new run of 429s was weighed (after the answers in flight with it): the estimate then (none: calls held), and how long calls stay paused. */
  onRun?: (estimate: RateEstimate | undefined, pausedMs: number) => void;
  /**
   * The API bore the estimate out: calls went at 0.9 × it or more for 5 s without a run
   * of 429s (once per estimate and stretch). What the gate learned then is one to start another
   * gate from; a fit made just now is not yet (on a loaded machine one came out 18 % high, its
   * bucket as much too small, and a gate started from it met a run of 429s every few seconds).
   */
  onConfirmed?: (learned: LearnedRate & Pick<RateEstimate, 'confident' | 'source'>) => void;
  /**
   * An estimate learned before this gate (`learned` of the gate before a restart, or of the
   * account's previous caller, kept in the store): the gate starts as one that had just fitted
   * it — paced at it from its first call, probing gently — instead of unpaced. Without it the
   * gate is exactly a fresh one.
   */
  startFrom?: LearnedRate;
}

/** What a gate has learned of its account's limit, to start another gate from (RateGateOptions.startFrom). */
export interface LearnedRate {
  /** Requests per second. */
  rate: number;
  /** The fitted bucket size, when the estimate came from (or was lowered from) a fit of episodes. */
  burst?: number;
  /** The account's 429s paused it (`Retry-After`) while the estimate rested on long evidence: the cap aims a little below it. */
  pausing: boolean;
}

/** A cap above this multiple of the estimate is a probe; a refusal below it means the estimate is too high. */
const PROBING_ABOVE = 1.02;
/** A refusal while not probing lowers the estimate to this fraction of the cap then (after long evidence)… */
const CONFIDENT_DECREASE = 0.97;
/** …or to this one (while it rests on a few calls only). */
const UNSURE_DECREASE = 0.9;
/** Calls are claimed this long before their slot (a claim takes a few ms that pacing must not lose). */
const CLAIM_AHEAD_MS = 20;
/**
 * A 429 with hardly any call accepted before it holds calls this long (at least), as
 * `Retry-After: 1` does: long enough for the bucket to refill, even when RETRY_MAX_MS cuts a
 * pause shorter.
 */
const NO_EVIDENCE_HOLD_MS = 1000;
/** While a 429 waits for the calls in flight with it, a call due to start looks again this often. */
const EVIDENCE_RECHECK_MS = 10;

export class RateGate {
  private pausedUntil = 0;
  private nextSlot = 0;
  /** When the latest run of 429s began (or its pause ended), the origin of the cap's curve. */
  private since = 0;
  /** The cap at `since`, as a fraction of the estimate. */
  private startFactor = 1;
  private lastLimitedAt = -Infinity;
  private estimate: RateEstimate | undefined;
  private readonly estimator = new AcceptedRateEstimator();
  private readonly backoff: number;
  private readonly probe: { confident: number; unsure: number };
  /** Which calls are in flight, and when the answered ones most likely reached the API. */
  private readonly calls = new CallTimes();
  /** 429s waiting for the answers of the calls in flight with them, in the order heard. */
  private readonly pending: Refusal[] = [];
  /** Once the estimate rested on long evidence at a run that paused, a 429 that pauses lowers it a little and probing stays gentle. */
  private everConfident = false;
  /** Half the pace the API accepted before the first run of 429s that paused the account. */
  private halfPaceBeforePause: number | undefined;
  /** Below this since the latest run that paused while the estimate was unsure (0.9 × the cap then). */
  private unsureCeiling = Infinity;
  /** The latest run paused while the estimate was unsure: the probe above it climbs faster. */
  private climbing = false;
  /** Started from an estimate learned before, and no call taken yet: the cap's curve begins at the first call. */
  private awaitingFirstCall = false;
  /** Whether the API bore the estimate out since `since` (`onConfirmed`). */
  private readonly borneOut = new BorneOut();

  constructor(private readonly opts: RateGateOptions) {
    this.backoff = opts.backoffFactor ?? 0.8;
    this.probe = opts.probeSeconds ?? { confident: 60, unsure: 5 };
    const from = opts.startFrom;
    if (from !== undefined) {
      this.estimate = this.estimator.assumeFit(from.rate, from.burst);
      this.everConfident = from.pausing;
      // Not from now: a gate started at a deploy may see its first call hours later, and a curve
      // begun then would be probing far above the estimate by that time (unpaced, in effect).
      this.awaitingFirstCall = true;
    }
  }

  /** Milliseconds to wait before the next call may start (0: go). */
  waitMs(): number {
    const now = this.opts.now();
    const held = this.heldUntil(now);
    if (now < held) return held - now;
    if (this.estimate === undefined) return 0;
    return Math.max(0, this.nextSlot - CLAIM_AHEAD_MS - now);
  }

  /** Milliseconds calls stay held: paused by a `Retry-After`, or while a 429 waits for the answers in flight with it (0: not held). */
  pausedMs(): number {
    const now = this.opts.now();
    return Math.max(0, this.heldUntil(now) - now);
  }

  /** Until when calls are held (evaluating what can be first). */
  private heldUntil(now: number): number {
    this.settle(now);
    return Math.max(this.pausedUntil, this.pending[0]?.until ?? 0);
  }

  /**
   * Reserves the next slot: how long to wait for it (0: start now) and the call's handle, for its
   * start and answer. Under a cap, calls claimed together are spread evenly, not as a burst.
   * `call`: one that reached its slot while calls were held (it never started), moved to this one.
   */
  take(call?: GateCall): { waitMs: number; call: GateCall } {
    const now = this.opts.now();
    if (this.awaitingFirstCall) {
      this.awaitingFirstCall = false;
      this.since = now;
    }
    const held = this.heldUntil(now);
    const waitMs = this.slotWait(now, held);
    return { waitMs, call: this.calls.slot(now + waitMs, call) };
  }

  /** `call` started at `at` (default: now), whenever its slot was: it is placed by when it went out. */
  started(call: GateCall, at = this.opts.now()): void {
    this.calls.started(call, at);
  }

  private slotWait(now: number, held: number): number {
    if (now < held && this.pausedUntil <= now) return Math.min(held - now, EVIDENCE_RECHECK_MS); // the evidence may come any moment
    const cap = this.rateCap;
    if (cap === undefined) return Math.max(0, held - now);
    const slot = Math.max(now, this.nextSlot, held);
    this.nextSlot = slot + 1000 / cap;
    return slot - now;
  }

  /** How many calls may start right now without waiting. */
  available(max: number): number {
    if (this.waitMs() > 0) return 0;
    const cap = this.rateCap;
    if (cap === undefined) return max;
    // 50 ms worth of calls per claim: evenly paced, without a claim per call.
    return Math.max(1, Math.min(max, Math.floor(cap / 20)));
  }

  /** `call` was accepted, answered at `answeredAt` (default: now). */
  accepted(call: GateCall, answeredAt = this.opts.now()): void {
    const placedAt = this.calls.answered(call, answeredAt, 'accepted');
    this.estimator.accepted(placedAt);
    const now = this.opts.now();
    this.settle(now);
    this.confirm(placedAt, now);
  }

  /** Counts an accepted call towards the estimate being borne out, and tells once it is (`onConfirmed`). */
  private confirm(placedAt: number, now: number): void {
    const e = this.estimate;
    if (e === undefined || !e.confident || this.awaitingFirstCall) return;
    if (!this.borneOut.acceptedCall(this.since, placedAt, now, e.rate, this.pending.length > 0)) return;
    const learned = this.learned;
    if (learned !== undefined) this.opts.onConfirmed?.(learned);
  }

  /** `call` ended otherwise (another failure), or never started: a 429 no longer waits for it. */
  ended(call: GateCall): void {
    this.calls.ended(call);
    this.settle(this.opts.now());
  }

  /**
   * An answer other than 429 asked for a pause (a 503 with `Retry-After`), or another instance
   * told of one: no evidence about the rate, but nothing is sent meanwhile, so the estimator is
   * told too (a paused second is no pace the API accepted).
   */
  pause(retryAfterMs: number): void {
    if (retryAfterMs <= 0) return;
    const now = this.opts.now();
    this.pausedUntil = Math.max(this.pausedUntil, now + Math.min(retryAfterMs, this.opts.maxPauseMs));
    this.nextSlot = Math.max(this.nextSlot, this.pausedUntil);
    this.estimator.paused(this.pausedUntil, now);
  }

  /**
   * The provider answered 429 to `call`: true when it begins a new run of refusals (the others came
   * back from calls already in flight). A `Retry-After` pauses at once; the rate waits for them.
   */
  limited(retryAfterMs: number | undefined, call: GateCall): boolean {
    const now = this.opts.now();
    const paused = retryAfterMs !== undefined && retryAfterMs > 0;
    if (paused) this.pause(retryAfterMs);
    const { startedAt } = call;
    const at = this.calls.answered(call, now, 'refused');
    // A call that started before the gate heard of the latest run belongs to that run.
    const newRun = startedAt >= this.lastLimitedAt;
    if (newRun) this.lastLimitedAt = now;
    const pauseUntil = paused ? this.pausedUntil : undefined;
    this.pending.push({ startedAt, at, answeredAt: now, pauseUntil, newRun, until: pauseUntil ?? now + NO_EVIDENCE_HOLD_MS });
    this.settle(now);
    return newRun;
  }

  /** Evaluates the 429s whose calls started with or before them have all answered (or that waited their most). */
  private settle(now: number): void {
    for (let r = this.pending[0]; r !== undefined; r = this.pending[0]) {
      if (now < r.until && this.calls.inFlightBy(r.startedAt, now) > 0) return;
      this.pending.shift();
      this.evaluate(r, now);
      if (r.newRun) this.opts.onRun?.(this.estimate, Math.max(0, this.pausedUntil - now));
    }
  }

  private evaluate(r: Refusal, now: number): void {
    const paused = r.pauseUntil !== undefined;
    r.at = Math.max(r.at, this.calls.acceptedWith(r.startedAt) + 0.001); // just after the calls accepted that started with it
    const before = this.estimate;
    const capThen = this.capAt(r.answeredAt);
    // Every refusal refines the estimate (the calls in flight with the first say most)…
    this.estimate = this.estimator.refused(r.at, r.pauseUntil, r.answeredAt) ?? before;
    if (this.estimate === undefined) {
      // …but one with hardly any call accepted before it says only that another client emptied the
      // bucket: calls wait a second (or the Retry-After) while it refills, then go on as before any 429.
      if (r.newRun) {
        this.pausedUntil = Math.max(this.pausedUntil, r.answeredAt + NO_EVIDENCE_HOLD_MS);
        this.estimator.held(this.pausedUntil, now);
      }
      return;
    }
    // Refused while not probing above the estimate: it was too high (by a little only, after long evidence).
    if (r.newRun && before !== undefined && capThen !== undefined && capThen <= before.rate * PROBING_ABOVE) {
      const known = paused && this.everConfident;
      this.estimate = this.estimator.tooHigh(capThen, known ? CONFIDENT_DECREASE : UNSURE_DECREASE, known);
    }
    if (paused && this.estimate.confident) this.everConfident = true;
    if (paused && !this.everConfident) {
      // Every further run costs a whole pause: start from half the pace the API accepted at most
      // (above the limit: the bucket ran empty), so the next stretch crosses the limit slowly (the fit).
      if (this.halfPaceBeforePause === undefined && r.newRun) this.halfPaceBeforePause = (this.estimator.acceptedPace(r.at) ?? Infinity) / 2;
      // Refused on the climb: below the cap then, and the next stretch must be paced unlike this one.
      if (r.newRun && capThen !== undefined) this.unsureCeiling = Math.min(this.unsureCeiling, UNSURE_DECREASE * capThen);
      const half = this.halfPaceBeforePause ?? Infinity;
      if (this.estimate.rate > half) this.estimate = { rate: half, confident: false, source: 'halved' };
      if (this.estimate.rate > this.unsureCeiling) this.estimate = { rate: this.unsureCeiling, confident: false, source: 'decreased' };
      // Refused on a climb from `before` with still no fit: a climb from as low again would repeat
      // this stretch (an episode paced alike tells the fit nothing new) and so on for good. The
      // limit lies between the start of the climb (accepted for seconds) and the pace accepted
      // then (not the cap, which concurrency or the webhooks' own pace may have left unused):
      // start the next one halfway up to 0.9 × that, where it crosses the limit more gently.
      const top = Math.min(this.unsureCeiling, UNSURE_DECREASE * (this.estimator.acceptedPace(r.at) ?? Infinity));
      if (r.newRun && this.climbing && !this.estimate.confident && before !== undefined && !before.confident && this.estimate.rate <= before.rate && before.rate < top) {
        const start = (before.rate + top) / 2;
        this.halfPaceBeforePause = start;
        this.estimate = { rate: start, confident: false, source: 'halved' };
      }
    }
    if (r.newRun) this.climbing = paused && !this.everConfident;
    if (this.pausedUntil > r.answeredAt) {
      // The pause refills the bucket: the curve starts at the estimate when it ends.
      this.since = this.pausedUntil;
      this.startFactor = 1;
    } else if (r.newRun) {
      this.since = now;
      this.startFactor = this.backoff;
    }
    // The next call waits at least one slot at the new cap.
    const cap = this.rateCap;
    if (r.newRun && cap !== undefined) this.nextSlot = Math.max(this.nextSlot, now + 1000 / cap);
    this.nextSlot = Math.max(this.nextSlot, this.pausedUntil);
  }

  /** The pacing rate in requests/s, or undefined while no 429 has come. */
  get rateCap(): number | undefined {
    return this.capAt(this.opts.now());
  }

  private capAt(now: number): number | undefined {
    const e = this.estimate;
    if (e === undefined) return undefined;
    const seconds = this.awaitingFirstCall ? 0 : Math.max(0, now - this.since) / 1000;
    return capCurve({ estimate: e, seconds, startFactor: this.startFactor, everConfident: this.everConfident, climbing: this.climbing, probe: this.probe });
  }

  /**
   * A 429 waits for the answers in flight with it (and no pause holds calls): a slot `take` gives
   * now is a look again soon, not a place in the pace — the call takes a new one at it.
   */
  get weighing(): boolean {
    return this.pending.length > 0 && this.pausedUntil <= this.opts.now();
  }

  /** The estimated limit and what it rests on, or undefined while no 429 has come. */
  get limitEstimate(): RateEstimate | undefined {
    return this.estimate;
  }

  /**
   * What this gate has learned, for another gate to start from (`startFrom`, when `confident`:
   * a first, cautious estimate is no better than what a fresh gate learns itself), or undefined
   * while no 429 has given an estimate.
   */
  get learned(): (LearnedRate & Pick<RateEstimate, 'confident' | 'source'>) | undefined {
    const e = this.estimate;
    if (e === undefined) return undefined;
    return { rate: e.rate, burst: this.estimator.fittedBurst, pausing: this.everConfident, confident: e.confident, source: e.source };
  }
}
