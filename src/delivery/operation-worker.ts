import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import { TagApiError } from '../providers/errors';
import type { Tagger } from '../providers/taggers';
import type { AccountScope, ClaimedOperation, DeadLetterRequest, InstanceSession, Store } from '../store/store';
import type { AckPressure } from './ack-pressure';
import type { CallLease } from './call-lease';
import { LeasedLoop } from './leased-loop';
import { decideAfterFailure, type FailureFacts, type RetryPolicy } from './operation-outcome';
import { ConcurrencyLimit, type CallOutcome } from './concurrency-limit';
import type { GateCall } from './call-times';
import { AccountRateGate } from './account-rate-gate';
import type { RateGate } from './rate-gate';
import { waitForSlot } from './slot-wait';

/** Without PROVIDER_CONCURRENCY: where the adaptive limit starts, and how far it may grow. */
export const ADAPTIVE_CONCURRENCY = { initial: 8, max: 32 };

/** Why an operation no configured account can take is kept as a dead letter (and the code that queues it again). */
export type Unroutable = (op: ClaimedOperation) => Pick<DeadLetterRequest, 'reason' | 'code'>;

export interface OperationWorkerDeps {
  /** For logs: the account, or what the loop is for. */
  name: string;
  /** Whose operations it claims. */
  scope: AccountScope;
  store: Store;
  /**
   * The account's tagger; undefined for the loop that keeps the operations no configured
   * account can take as dead letters, saying why (`unroutable`).
   */
  tagger: Tagger | undefined;
  unroutable?: Unroutable;
  policy: RetryPolicy;
  /** PROVIDER_CONCURRENCY: at most this many calls in flight; undefined adapts (concurrency-limit.ts). */
  concurrency: number | undefined;
  /** Adaptive only: while webhook answers are slow, no more than ADAPTIVE_CONCURRENCY.initial calls (ack-pressure.ts). */
  pressure?: AckPressure;
  leaseMs: number;
  /** TAG_API_TIMEOUT_MS: the calls for a claimed row end this long after the claim. */
  callTimeoutMs: number;
  owner: string;
  log: Logger;
  metrics: Metrics;
  now: () => number;
  random?: () => number;
  /**
   * Whether this instance may call the account now (PROVIDER_CALLERS=one: while it holds the
   * account's caller role); default always. While not, nothing is claimed: another instance calls it.
   */
  mayCall?: () => boolean;
  /**
   * This instance is the only one calling the account while it calls it (SQLite; PostgreSQL with
   * PROVIDER_CALLERS=one), so its gate's estimate is the account's: kept in the store at every
   * run of 429s (Store.keepRateEstimate), for the gate that starts after it (stored-estimates.ts).
   * Default false: an instance that shares the account's calls learns only its share.
   */
  keepsEstimate?: boolean;
  /** Told how every attempt ended (tests and the status page listen). */
  onOutcome?: (outcome: OperationOutcome) => void;
}

export interface OperationOutcome {
  op: ClaimedOperation;
  outcome: 'applied' | 'superseded' | 'retry' | 'dead';
  reason?: string;
  status?: number;
}

/** How long a loop that is not its account's caller sleeps between looks (taking the role wakes it). */
const NOT_CALLER_WAIT_MS = 5000;

/** A pause is told to the other instances again only when it lengthens by more than this. */
const SHARE_PAUSE_LONGER_BY_MS = 250;

/**
 * Applies the desired-state rows of one account: claim → call → complete, retry
 * later, or dead-letter. Bounded concurrency, one RateGate per account, so one
 * account's 429s and outages never slow another's.
 */
export class OperationWorker {
  /** The account's gate: started anew from a stored estimate, and keeping what it learns (account-rate-gate.ts). */
  readonly rateGate: AccountRateGate;
  readonly concurrency: ConcurrencyLimit;
  private readonly loop: LeasedLoop<ClaimedOperation>;
  /** Until when this account's pause was last told to the other instances (epoch ms). */
  private sharedPauseUntil = 0;
  /** The latest pause being kept in the store: stopping waits for it, so a deploy keeps it for the next start. */
  private sharing: Promise<void> = Promise.resolve();

  constructor(private readonly d: OperationWorkerDeps) {
    this.rateGate = new AccountRateGate({
      account: d.name, store: d.store, now: d.now, maxPauseMs: d.policy.maxMs, log: d.log, keepsEstimate: d.keepsEstimate ?? false, wake: () => this.wake(),
    });
    this.concurrency = new ConcurrencyLimit(
      d.concurrency === undefined ? ADAPTIVE_CONCURRENCY : { initial: d.concurrency, max: d.concurrency },
    );
    this.loop = new LeasedLoop<ClaimedOperation>({
      name: `operations/${d.name}`,
      owner: d.owner,
      leaseMs: d.leaseMs,
      callMs: d.callTimeoutMs,
      concurrency: () => this.slots(),
      // Not the account's caller (or reading the estimate to start from): wait to be woken or for the safety-net timer.
      gate: () => (d.mayCall?.() === false || this.rateGate.held ? NOT_CALLER_WAIT_MS : this.gate.waitMs()),
      limit: (free) => (d.tagger ? this.gate.available(free) : free),
      claim: (limit, owner) =>
        d.store.claimOperations({ scope: d.scope, limit, owner, now: d.now(), leaseMs: d.leaseMs, callMs: d.callTimeoutMs }),
      handle: (op, owner, lease) => this.handle(op, owner, lease),
      renew: (ids, owner) => d.store.renewOperationLeases(ids, owner, d.now(), d.leaseMs),
      release: (owner) => d.store.releaseLeases(owner),
      // Its own accounts' rows only: another account's backlog would wake this loop every few ms for nothing.
      nextDueAt: () => d.store.nextDueAt('operations', d.scope),
      now: d.now,
      log: d.log,
      logFields: { account: d.name },
    });
  }

  /** The account's rate gate in force (AccountRateGate.gate). */
  get gate(): RateGate {
    return this.rateGate.gate;
  }

  /** Calls that may be in flight now: the limit, held at its start while webhook answers are slow (adaptive only). */
  private slots(): number {
    const limit = this.concurrency.limit;
    if (this.d.concurrency !== undefined || !this.d.pressure?.slow) return limit;
    return Math.min(limit, ADAPTIVE_CONCURRENCY.initial);
  }

  start(session?: InstanceSession): void {
    this.loop.start(session);
  }

  wake(): void {
    this.loop.wake();
  }

  /**
   * Another instance (or the process before this one) met a `Retry-After` for this account:
   * calls pause here too, for `ms` from now, capped at RETRY_MAX_MS like any pause (CONTRACT.md:
   * it pauses calls to that provider account, which every instance shares). Returns how many ms
   * it lengthened the pause here by (0: this instance was paused as long already).
   */
  pausedElsewhere(ms: number): number {
    const before = this.gate.pausedMs();
    this.gate.pause(ms);
    const after = this.gate.pausedMs();
    this.sharedPauseUntil = Math.max(this.sharedPauseUntil, this.d.now() + after);
    return Math.max(0, after - before);
  }

  /**
   * Keeps a pause this one's `Retry-After` began or lengthened in the store, and tells the other
   * instances, once per run of 429s (the calls in flight with the first lengthen it by a few ms only).
   */
  private sharePause(gate: RateGate, log: Logger): void {
    const now = this.d.now();
    const ms = gate.pausedMs();
    const until = now + ms;
    if (ms <= 0 || until <= this.sharedPauseUntil + SHARE_PAUSE_LONGER_BY_MS) return;
    this.sharedPauseUntil = until;
    const write = this.d.store.sharePause(this.d.name, until, now).catch((err: unknown) => {
      log.warn('could not keep a Retry-After pause in the store for the other instances and the next start', { err });
    });
    // Stopping waits for every write still running, not only the latest (an earlier one may be the slow one).
    this.sharing = Promise.all([this.sharing, write]).then(() => undefined);
  }

  get active(): number {
    return this.loop.active;
  }

  /** Stops claiming, waits up to `graceMs` for calls in flight, then releases every lease still held. */
  async stop(graceMs: number): Promise<{ drained: boolean; released: number }> {
    const stopped = await this.loop.stop(graceMs);
    // The pauses and estimates met by the last calls are kept before the store closes (neither rejects).
    await Promise.all([this.sharing, this.rateGate.settled()]);
    return stopped;
  }

  private async handle(op: ClaimedOperation, owner: string, lease: CallLease): Promise<void> {
    const persist = (write: () => Promise<unknown>) => this.loop.persist(write, 'a tag call outcome', lease);
    const { store, metrics } = this.d;
    const labels = { provider: op.provider, account: op.account };
    const log = this.d.log.child({
      provider: op.provider, account: op.account, channel: op.channel, opId: op.id, version: op.version, tagId: op.tagId, action: op.action, userId: op.userId,
    });
    if (!this.d.tagger) {
      const dead = this.d.unroutable?.(op) ?? { reason: `no tagger for account ${JSON.stringify(op.account)}`, code: 'account_missing' as const };
      await persist(() => store.deadLetterOperation(op, owner, this.d.now(), dead));
      metrics.tagOperations.inc({ ...labels, outcome: 'dead' });
      this.d.onOutcome?.({ op, outcome: 'dead', reason: dead.reason });
      log.warn('tag operation kept as a dead letter: no account can take it', { reason: dead.reason });
      return;
    }
    // This call's gate to the end, even should the account's be started anew meanwhile (AccountRateGate.startFrom).
    const gate = this.gate;
    const call = await waitForSlot(gate, lease.signal, this.d.now);
    lease.checkDeadline();
    if (lease.abandoned || lease.released || lease.signal.aborted) gate.ended(call);
    if (lease.abandoned) {
      log.warn('tag call not started: the database session was lost; its lease is abandoned');
      return;
    }
    if (lease.released) {
      log.info('tag call not started: the service is stopping; the operation stays queued');
      return;
    }
    if (lease.signal.aborted) {
      // Its call deadline passed while it waited for its slot (a pause that began after the claim):
      // no call now (another instance may take the row from here), and nothing was learned of the
      // API, so the concurrency limit is not told of a failed call. Tried again after a backoff.
      const why = lease.signal.reason instanceof Error ? lease.signal.reason.message : String(lease.signal.reason);
      await this.failed(op, owner, { retryable: true, notFound: false, reason: `tag call not started: ${why} while it waited for its turn` }, log, persist, { gate, call });
      return;
    }
    const started = this.d.now();
    gate.started(call, started);
    const inFlight = this.loop.active;
    const endTimer = metrics.tagCallDuration.startTimer(labels);
    try {
      await this.d.tagger.apply(op, lease.signal);
      endTimer();
      this.concurrency.record(started, this.d.now(), 'ok', inFlight);
    } catch (err) {
      endTimer();
      const failure: FailureFacts & { status?: number; bodyExcerpt?: string } =
        err instanceof TagApiError
          ? err
          : { retryable: true, notFound: false, reason: `unexpected error: ${err instanceof Error ? err.message : String(err)}` };
      this.concurrency.record(started, this.d.now(), callOutcome(failure.status), inFlight);
      // A 429 is the gate's evidence (failed() tells it); any other end only frees its place.
      if (failure.status !== 429 || lease.abandoned || lease.released) gate.ended(call);
      if (lease.abandoned) {
        // Another instance takes the row at its call deadline; an outcome written now could only delay it.
        log.warn('tag call aborted: the database session was lost; its lease is abandoned', { reason: failure.reason });
        return;
      }
      if (lease.released) {
        // Stopping released the lease: the operation stays queued as it was, for the next start (or another instance).
        log.info('tag call aborted: the service is stopping; the operation stays queued', { reason: failure.reason });
        return;
      }
      await this.failed(op, owner, failure, log, persist, { gate, call });
      return;
    }
    gate.accepted(call);
    let current = false;
    await persist(async () => {
      current = await store.completeOperation(op, owner, this.d.now(), { status: 200 });
    });
    metrics.tagOperations.inc({ ...labels, outcome: current ? 'applied' : 'superseded' });
    this.d.onOutcome?.({ op, outcome: current ? 'applied' : 'superseded', status: 200 });
    log.info('tag operation applied', { ms: this.d.now() - started, superseded: !current });
    if (!current) this.loop.wake();
  }

  private async failed(
    op: ClaimedOperation,
    owner: string,
    failure: FailureFacts & { status?: number; bodyExcerpt?: string },
    log: Logger,
    persist: (write: () => Promise<unknown>) => Promise<void>,
    { gate, call }: { gate: RateGate; call: GateCall },
  ): Promise<void> {
    const { store, metrics } = this.d;
    const labels = { provider: op.provider, account: op.account };
    if (failure.status === 429) {
      gate.limited(failure.retryAfterMs, call); // its log line comes once the run is weighed (onRun)
    } else if (failure.retryAfterMs !== undefined) gate.pause(failure.retryAfterMs);
    // The account's gate may have been started anew while this call was in flight: it pauses too.
    if (failure.retryAfterMs !== undefined) this.rateGate.pausedThrough(gate, failure.retryAfterMs);
    // Only a pause the API asked for is the account's: a hold of the gate's own (a 429 weighed, or
    // `Retry-After: 0`) stays this instance's.
    if (failure.retryAfterMs !== undefined && failure.retryAfterMs > 0) this.sharePause(gate, log);
    const now = this.d.now();
    const decision = decideAfterFailure(op, failure, this.d.policy, now, this.d.random);
    const outcome = { status: failure.status, error: failure.reason, bodyExcerpt: failure.bodyExcerpt };
    if (decision.kind === 'retry') {
      await persist(() => store.retryOperation(op, owner, now, { ...outcome, dueAt: decision.dueAt, notFound: failure.notFound }));
      metrics.tagOperations.inc({ ...labels, outcome: 'retry' });
      this.d.onOutcome?.({ op, outcome: 'retry', reason: failure.reason, status: failure.status });
      log.warn('tag operation failed, will retry', { reason: failure.reason, status: failure.status, inMs: decision.dueAt - now, attempt: op.attempts + 1 });
    } else {
      await persist(() => store.deadLetterOperation(op, owner, now, { ...outcome, reason: decision.reason }));
      metrics.tagOperations.inc({ ...labels, outcome: 'dead' });
      this.d.onOutcome?.({ op, outcome: 'dead', reason: decision.reason, status: failure.status });
      log.error('tag operation is a dead letter', { reason: decision.reason, status: failure.status });
    }
  }
}

/** For the concurrency limit: a 429, an API in trouble (5xx, no answer), or an answer like any other. */
function callOutcome(status: number | undefined): CallOutcome {
  if (status === 429) return 'limited';
  return status === undefined || status >= 500 ? 'failed' : 'ok';
}

