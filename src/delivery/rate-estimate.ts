import { fitTokenBucket, impliedBurst, type BucketEpisode } from './bucket-fit';
import { AcceptedStarts } from './accepted-starts';
import { PauseEnds } from './pause-ends';

/**
 * Estimates the rate a provider account accepts from what it actually accepted, for RateGate.
 *
 * Rate limits are token buckets (or behave like one): R tokens a second, at most B saved up.
 * Before the first 429 every call is accepted, so the pace reached then says only that the
 * limit is lower. The evidence, by the start time of each call, best first:
 *
 * - **Saturated stretches** (without Retry-After): from one refused call to the next the bucket
 *   was empty at both ends, so the calls accepted in between used tokens that came back
 *   meanwhile: R ≥ (accepted − 1) / duration, closely so over half a second or more.
 * - **Episodes that start with a full bucket** (the first call, and the first call after a
 *   pause of a second or more, e.g. `Retry-After: 1`) and end at the first refusal: each says
 *   how big the bucket must have been for a given R; where they agree is R (bucket-fit.ts).
 *   This is the case that matters most: every such 429 costs a second of pause.
 * - **The tail**: the calls already in flight when the first 429 came, refused and accepted in
 *   turn at the pace tokens come back — only a few, so ±1 token over a few milliseconds.
 * - Nothing else: half the pace of the last second, counted from the end of the latest pause (a
 *   held second says nothing of what the API accepts).
 * - Except where the bucket was only assumed full: an episode that begins with the first call, or
 *   after an idle second, and is refused with fewer than three calls accepted was most likely
 *   begun on a bucket another client of the account had emptied (another instance, or the one
 *   before a restart). It says nothing about the rate: no estimate, and no episode. After a pause
 *   the bucket is known to be full, so a second such episode says the bucket is that small.
 *
 * A refusal while the gate was not probing above the estimate overrules all but a new fit
 * (`tooHigh`).
 *
 * Deterministic: it keeps no clock; times are the callers' (epoch ms).
 */
export interface RateEstimate {
  /** Requests per second the account accepts, as far as is known. */
  rate: number;
  /** From long evidence (a fit of episodes, or a saturated stretch of ≥ 0.5 s), not a few tail calls. */
  confident: boolean;
  /** Which evidence it came from (tests and logs); 'stored': learned before this gate, kept in the store (`assumeFit`). */
  source: 'fit' | 'saturated' | 'tail' | 'halved' | 'decreased' | 'stored';
}

interface Stretch {
  accepted: number;
  ms: number;
  /** Start time of the refused call that ends it (the next stretch may go on from there). */
  end: number;
}

/** A saturated stretch this long bounds R closely; shorter ones are a few tail calls, ±1 token. */
const CONFIDENT_SATURATED_MS = 500;
const KEEP_STRETCHES = 8;
/** A second without any call: the bucket is taken to be full again. */
const IDLE_REFILL_MS = 1000;
const KEEP_EPISODES = 4;
/** Refusals at most this far apart extend one saturated stretch. */
const MERGE_GAP_MS = 100;
/** Tails shorter than this (a call or two) say nothing about the rate… */
const MIN_TAIL_MS = 10;
/** …nor do tails with fewer accepted calls than this (±1 token is ±50 % and more), nor episodes only assumed to start full. */
const MIN_TAIL_ACCEPTED = 3;

export class AcceptedRateEstimator {
  /** Start times of accepted calls (the last few seconds' worth). */
  private readonly acceptedStarts = new AcceptedStarts();
  /** Start time of the latest call seen, accepted or refused. */
  private lastStart = -Infinity;
  /**
   * Start of the stretch or episode under way; `full` when the bucket is taken to be full at its
   * start, `assumed` when only because it is the first call or the first after an idle second
   * (not after a pause): another client of the account may have emptied it.
   */
  private open: { start: number; full: boolean; assumed?: boolean } | undefined;
  /** The latest episode or stretch began on a bucket another client had emptied, most likely: the refusals that end it say nothing about the rate. */
  private emptied = false;
  /** Start time of the latest refused call of the tail (in flight when the first refusal came). */
  private tailFrom: number | undefined;
  private readonly stretches: Stretch[] = [];
  private readonly episodes: BucketEpisode[] = [];
  private current: RateEstimate | undefined;
  /** The latest fit of episodes (or the estimate assumed at the start), kept until contradicted. */
  private lastFit: number | undefined;
  /** Where `lastFit` came from: this estimator's episodes, or an estimate learned before it (`assumeFit`). */
  private lastFitSource: 'fit' | 'stored' = 'fit';
  /** The bucket size of the latest fit. */
  private lastBurst: number | undefined;
  /** The latest refusal gave a new fit. */
  private freshFit = false;
  /** Set by `tooHigh`: no estimate above it until a fit. */
  private ceiling = Infinity;
  /** When the latest pauses end: nothing is sent while one lasts, so it says nothing of the pace accepted. */
  private readonly pauseEnds = new PauseEnds();
  /** …and of pauses that came from elsewhere (see `paused`). */
  private readonly otherPauseEnds = new PauseEnds();

  /** A call that started at `startedAt` was accepted. */
  accepted(startedAt: number): void {
    this.seen(startedAt);
    this.acceptedStarts.add(startedAt);
  }

  /**
   * A call that started at `startedAt` was refused (429). `pauseUntil`: when the pause it caused
   * ends, if it caused one (a bucket is full again after a pause of at least a second). Told only
   * once the calls that started with or before it have answered (RateGate): they are the evidence.
   */
  refused(startedAt: number, pauseUntil: number | undefined, answeredAt = startedAt): RateEstimate | undefined {
    this.seen(startedAt);
    if (pauseUntil !== undefined) this.pauseEnds.add(pauseUntil, answeredAt);
    const open = (this.open ??= { start: startedAt, full: true, assumed: true });
    // Counted from its answer at the latest: a 429 is placed after the accepted calls that started
    // with it, which answered late can place after its own answer (and its pause's start).
    const refills = pauseUntil !== undefined && pauseUntil - Math.min(startedAt, answeredAt) >= 1000;
    if (startedAt >= open.start) {
      // The first refusal of this episode or stretch: the bucket ran empty here.
      const accepted = this.acceptedStarts.count(open.start, startedAt);
      const ms = startedAt - open.start;
      // An episode whose first call was refused did not start full: no evidence. Nor does one
      // only assumed full that hardly began (another client had emptied the bucket, most likely).
      this.emptied = open.full && open.assumed === true && accepted < MIN_TAIL_ACCEPTED;
      if (open.full && accepted > 0 && !this.emptied) this.keepEpisode({ accepted: this.acceptedStarts.between(open.start, startedAt), refusedAt: startedAt });
      else if (!open.full && ms > 0) this.addStretch(open.start, startedAt, accepted);
      this.tailFrom = startedAt;
      this.open = refills ? { start: pauseUntil, full: true } : { start: startedAt, full: false };
    } else {
      // A longer pause (a later Retry-After) moves the next episode's start.
      if (refills && open.full) open.start = Math.max(open.start, pauseUntil);
      if (this.tailFrom !== undefined && startedAt > this.tailFrom) {
        // A call of the tail (in flight when the first refusal came) refused too: still saturated.
        const accepted = this.acceptedStarts.count(this.tailFrom, startedAt);
        this.addStretch(this.tailFrom, startedAt, accepted);
        this.tailFrom = startedAt;
      }
    }
    this.current = this.estimate(answeredAt);
    return this.current;
  }

  /**
   * The gate holds calls until `until` after the refusal it was just told of, which had no
   * pause of its own: the bucket refills meanwhile, so the next episode starts full then.
   */
  held(until: number, now: number): void {
    this.pauseEnds.add(until, now);
    if (this.open !== undefined && !this.open.full && until - this.open.start >= IDLE_REFILL_MS) this.open = { start: until, full: true };
  }

  /**
   * Calls are paused until `until` for another reason (a 503's `Retry-After`, another
   * instance's): nothing is sent meanwhile, so it bounds the pace counted, as a 429's pause does.
   * It does not say the next episode starts full: another instance resumes with it.
   */
  paused(until: number, now: number): void {
    this.otherPauseEnds.add(until, now);
  }

  /** The end of the latest pause of any kind that ended by `t` (-Infinity: none). */
  private pausedUntilBy(t: number): number {
    return Math.max(this.pauseEnds.latestBy(t), this.otherPauseEnds.latestBy(t));
  }

  /**
   * The pace the API accepted over the second before `before` (from the first accepted call in
   * it, after the latest pause): above the limit when the bucket ran empty then, so half of it is
   * a cautious guess. Undefined with fewer than two accepted calls.
   */
  acceptedPace(before: number): number | undefined {
    return this.acceptedStarts.pace(Math.max(before - 1000, this.pausedUntilBy(before)), before);
  }

  /** The latest estimate (after the latest refusal), or undefined before any that said something about the rate. */
  get estimateNow(): RateEstimate | undefined {
    return this.current;
  }

  private estimate(answeredAt: number): RateEstimate | undefined {
    // Each stretch bounds R from below (it may have filled up on the way); the best bound counts.
    let bound = 0;
    for (const x of this.stretches) if (x.ms >= CONFIDENT_SATURATED_MS) bound = Math.max(bound, ((x.accepted - 1) * 1000) / x.ms);
    if (bound > 0) return { rate: bound, confident: true, source: 'saturated' };
    const sat = this.stretches.reduce((s, x) => ({ accepted: s.accepted + x.accepted, ms: s.ms + x.ms }), { accepted: 0, ms: 0 });
    const fitted = fitTokenBucket(this.episodes);
    const fit = fitted?.rate;
    if (fitted !== undefined) this.lastBurst = fitted.burst;
    this.freshFit = fit !== undefined;
    if (fit !== undefined) {
      // A fit accounts for the bucket, which a refusal's pace alone does not: it lifts the ceiling.
      this.ceiling = Infinity;
      this.lastFit = fit;
      this.lastFitSource = 'fit';
    }
    if (this.lastFit !== undefined) return this.capped({ rate: this.lastFit, confident: true, source: this.lastFitSource });
    // A few calls of a tail: tokens that came back in `ms` lie between `accepted` and `accepted + 1`.
    if (sat.ms >= MIN_TAIL_MS && sat.accepted >= MIN_TAIL_ACCEPTED) return this.capped({ rate: ((sat.accepted + 0.5) * 1000) / sat.ms, confident: false, source: 'tail' });
    // Nothing but the refusal itself: half of what was being achieved over the last second, up
    // to the refusal's answer (so calls sent all at once still span their round trip), and not
    // before the latest pause ended: a second held says nothing of what the API accepts.
    const from = Math.max(answeredAt - 1000, this.acceptedStarts.first() ?? answeredAt, this.pausedUntilBy(answeredAt));
    // Not after an episode that began on a bucket another client had emptied: unknown.
    if (this.emptied) return this.current;
    const recent = this.acceptedStarts.count(from, answeredAt);
    return this.capped({ rate: Math.max(1, (recent * 1000) / Math.max(1, answeredAt - from) / 2), confident: false, source: 'halved' });
  }

  /**
   * Starts from an estimate learned before (by the gate before a restart, or by the account's
   * previous caller: kept in the store), as if its episodes had just given that fit: later
   * refusals refine it, and contradict it, exactly as they would a fit of this estimator's own.
   */
  assumeFit(rate: number, burst: number | undefined): RateEstimate {
    this.lastFit = rate;
    this.lastFitSource = 'stored';
    this.lastBurst = burst;
    this.current = { rate, confident: true, source: 'stored' };
    return this.current;
  }

  /** The bucket size of the fit (or the one assumed) the estimate rests on now, if it rests on one. */
  get fittedBurst(): number | undefined {
    return this.lastFit !== undefined && this.current?.source !== 'saturated' ? this.lastBurst : undefined;
  }

  private capped(e: RateEstimate): RateEstimate {
    return e.rate <= this.ceiling ? e : { rate: this.ceiling, confident: false, source: 'decreased' };
  }

  /**
   * A refusal came while the gate was not probing above the estimate: the limit is below `rate`
   * (the pace then), whatever thin evidence said. The estimate falls to `factor` × that (0.9 by
   * default) and stays below it until a fit of episodes says more.
   *
   * `keepFit` (where every run costs a pause): an estimate from a fit is only lowered, and still
   * outranks the few calls of a tail; a fresh fit counts only when it is below the new ceiling.
   */
  tooHigh(rate: number, factor = 0.9, keepFit = false): RateEstimate {
    // A fit that includes the episode this refusal ended explains it already.
    if (this.freshFit && this.current !== undefined && (!keepFit || this.current.rate <= factor * rate)) return this.current;
    this.ceiling = Math.max(1, factor * rate);
    if (keepFit && this.lastFit !== undefined) {
      // The episode this refusal ended started with a full bucket of the fitted size: the rate
      // that empties such a bucket just then is the better guess, if it is lower (not far lower:
      // the fitted size is an estimate too).
      const drained = this.rateForBurst(this.episodes[this.episodes.length - 1], this.lastBurst);
      const lower = drained !== undefined ? Math.max(0.8 * rate, Math.min(this.ceiling, drained)) : this.ceiling;
      this.lastFit = Math.min(this.lastFit, lower);
      this.current = { rate: this.lastFit, confident: true, source: 'decreased' };
      return this.current;
    }
    this.lastFit = undefined;
    this.current = this.capped(this.current ?? { rate: this.ceiling, confident: false, source: 'decreased' });
    return this.current;
  }

  /** The rate at which `e` implies a bucket of `burst` (less 0.5 %), by bisection; undefined without both. */
  private rateForBurst(e: BucketEpisode | undefined, burst: number | undefined): number | undefined {
    if (e === undefined || burst === undefined || e.accepted.length < 2) return undefined;
    let lo = 1;
    let hi = (e.accepted.length * 1000) / Math.max(1, e.refusedAt - (e.accepted[0] as number));
    if (impliedBurst(e, hi) > burst) return undefined; // even its whole pace leaves more than the bucket: no answer
    for (let i = 0; i < 40; i++) {
      const mid = (lo + hi) / 2;
      if (impliedBurst(e, mid) > burst) lo = mid;
      else hi = mid;
    }
    return hi * 0.995;
  }

  /** Keeps the first episode (paced unlike the later ones, so it tells most) and the latest ones. */
  private keepEpisode(e: BucketEpisode): void {
    this.episodes.push(e);
    if (this.episodes.length > KEEP_EPISODES) this.episodes.splice(1, 1);
  }

  /**
   * A saturated stretch from `from` to `to`. Refusals close together (while calls go out faster
   * than the limit) extend the stretch before: still empty at both ends, and long enough in the
   * end to say R closely. A long gap may hide a bucket that filled up: a stretch of its own.
   */
  private addStretch(from: number, to: number, accepted: number): void {
    const last = this.stretches[this.stretches.length - 1];
    if (last !== undefined && last.end === from && to - from <= MERGE_GAP_MS) {
      last.accepted += accepted;
      last.ms += to - from;
      last.end = to;
      return;
    }
    this.stretches.push({ accepted, ms: to - from, end: to });
    if (this.stretches.length > KEEP_STRETCHES) this.stretches.splice(0, this.stretches.length - KEEP_STRETCHES);
  }

  /**
   * After a second without calls the bucket has filled up again: a new full-start episode — known
   * to start full when a pause kept the calls back, only assumed to otherwise.
   */
  private seen(startedAt: number): void {
    if (this.open === undefined || startedAt - this.lastStart > IDLE_REFILL_MS) this.open = { start: startedAt, full: true, assumed: !(this.pauseEnds.latestBy(startedAt) > this.lastStart) };
    this.lastStart = Math.max(this.lastStart, startedAt);
  }
}
