import type { Logger } from '../log';
import type { Store } from '../store/store';
import { RateGate, type LearnedRate } from './rate-gate';

/** Logged (info) when an estimate the API bore out is kept in the store. */
export const ESTIMATE_KEPT = 'tag API rate estimate borne out: kept in the store for the next start';

/**
 * One provider account's rate gate as its OperationWorker holds it: started anew from an estimate
 * learned before (`startFrom`: kept in the store, see stored-estimates.ts), held while that
 * estimate is read (`holdWhile`), and — where this instance is the account's only caller —
 * keeping what it learns in the store, once the API bore it out, for the gate that starts after it.
 */
export class AccountRateGate {
  private current: RateGate;
  /** Reads of the stored estimate under way: the worker claims nothing until they end. */
  private holds = 0;
  /** The estimates being kept in the store: stopping waits for them, so a deploy keeps the latest. */
  private writes: Promise<void> = Promise.resolve();

  constructor(
    private readonly o: {
      account: string;
      store: Store;
      now: () => number;
      /** RETRY_MAX_MS. */
      maxPauseMs: number;
      log: Logger;
      /** This instance is the account's only caller while it calls it (OperationWorkerDeps.keepsEstimate). */
      keepsEstimate: boolean;
      /** Looks for work again (a hold ended). */
      wake: () => void;
    },
  ) {
    this.current = this.create(undefined);
  }

  /** The gate in force: calls keep the one that let them go to their end, even should it be started anew meanwhile. */
  get gate(): RateGate {
    return this.current;
  }

  /** A read of the estimate to start from is under way. */
  get held(): boolean {
    return this.holds > 0;
  }

  /** Starts the gate anew: from an estimate learned before, as after a fit at it, or fresh (undefined). A pause under way stays. */
  startFrom(learned: LearnedRate | undefined): void {
    const pausedMs = this.current.pausedMs();
    this.current = this.create(learned);
    this.current.pause(pausedMs);
  }

  /**
   * A `Retry-After` of `retryAfterMs` met by a call `gate` let go. A call keeps its gate to its
   * end, so `gate` may have been started anew since; the pause is the account's, not the gate's,
   * and holds the gate in force too. (The pause this instance shares in the store is not heard
   * by itself, so nothing else would tell the new gate.)
   */
  pausedThrough(gate: RateGate, retryAfterMs: number): void {
    if (gate !== this.current) this.current.pause(retryAfterMs);
  }

  /** Held until `read` ends (reading the estimate to start from), then the worker looks again. */
  holdWhile(read: Promise<unknown>): void {
    this.holds++;
    void read
      .catch(() => undefined)
      .finally(() => {
        this.holds--;
        this.o.wake();
      });
  }

  /** Resolves once the estimates being kept in the store are written (or failed: never rejects). */
  settled(): Promise<void> {
    return this.writes;
  }

  private create(startFrom: LearnedRate | undefined): RateGate {
    const { log: parent, account } = this.o;
    const gate: RateGate = new RateGate({
      now: this.o.now,
      maxPauseMs: this.o.maxPauseMs,
      startFrom,
      // Said once a run of 429s is weighed, which may be a round trip after the first 429 (rate-gate.ts).
      onRun: (e, pauseMs) => {
        const log = parent.child({ account });
        // A 429 with hardly any call accepted before it gives no estimate: calls are held, not paced.
        if (e === undefined) log.info('tag API rate limit met: calls held while the bucket refills (no estimate of the limit yet)', { pauseMs });
        else log.info('tag API rate limit met: calls paced', { estimatePerSecond: Math.round(e.rate * 10) / 10, estimateFrom: e.source, pauseMs });
      },
      // Kept once the API bore it out, not at the run that gave it: a fit made just then can be
      // well off (rate-gate.ts, onConfirmed), and a gate started from one too high meets a run
      // of 429s every few seconds until it is down again.
      onConfirmed: (learned) => {
        if (!this.o.keepsEstimate) return;
        const log = parent.child({ account });
        log.info(ESTIMATE_KEPT, { estimatePerSecond: Math.round(learned.rate * 10) / 10, estimateFrom: learned.source });
        this.keep(learned, log);
      },
    });
    return gate;
  }

  /** Keeps what a gate learned in the store, for the gate that starts after this one. */
  private keep(learned: NonNullable<RateGate['learned']>, log: Logger): void {
    const write = this.o.store.keepRateEstimate(this.o.account, { ...learned, at: this.o.now() }).catch((err: unknown) => {
      log.warn('could not keep the rate estimate in the store for the next start', { err });
    });
    // Every write still running, not only the latest (an earlier one may be the slow one).
    this.writes = Promise.all([this.writes, write]).then(() => undefined);
  }
}
