import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import { TagApiError } from '../providers/errors';
import type { Tagger } from '../providers/taggers';
import type { Provider } from '../providers/tag-operation';
import type { ClaimedOperation, Store } from '../store/store';
import { decideAfterFailure, type FailureFacts, type RetryPolicy } from './operation-outcome';
import { ClaimTokens } from './claim-tokens';
import { persistOutcome } from './persist';
import { Pump } from './pump';
import { RateGate } from './rate-gate';

/** The reason kept on operations that arrived while a provider had no token; they are queued again once it has one. */
export function unconfiguredReason(provider: Provider): string {
  return `${provider === 'mantago' ? 'MANTAGO_TOKEN' : 'BOTBONNIE_TOKEN'} is not set`;
}

export interface OperationWorkerDeps {
  provider: Provider;
  store: Store;
  /** Undefined when the provider is not configured: its operations become dead letters that say so. */
  tagger: Tagger | undefined;
  policy: RetryPolicy;
  concurrency: number;
  leaseMs: number;
  owner: string;
  log: Logger;
  metrics: Metrics;
  now: () => number;
  random?: () => number;
  /** Told how every attempt ended (tests and the status page listen). */
  onOutcome?: (outcome: OperationOutcome) => void;
}

export interface OperationOutcome {
  op: ClaimedOperation;
  outcome: 'applied' | 'superseded' | 'retry' | 'dead';
  reason?: string;
  status?: number;
}

/**
 * Applies the desired-state rows of one provider: claim → call → complete,
 * retry later, or dead-letter. Bounded concurrency, one RateGate per provider.
 */
export class OperationWorker {
  readonly gate: RateGate;
  private readonly pump: Pump<ClaimedOperation>;
  /** Rows this worker holds, with the lease token they were claimed under. */
  private readonly held = new Map<number, { op: ClaimedOperation; token: string }>();
  private readonly tokens: ClaimTokens;
  private renewTimer: NodeJS.Timeout | undefined;

  constructor(private readonly d: OperationWorkerDeps) {
    this.gate = new RateGate({ now: d.now, maxPauseMs: d.policy.maxMs });
    this.tokens = new ClaimTokens(d.owner);
    this.pump = new Pump<ClaimedOperation>({
      name: `operations/${d.provider}`,
      concurrency: () => d.concurrency,
      gate: () => this.gate.waitMs(),
      claim: async (free) => {
        const limit = d.tagger ? this.gate.available(free) : free;
        if (limit <= 0) return [];
        if (this.tokens.hasOrphans) await this.tokens.releaseOrphans((t) => d.store.releaseLeases(t));
        const token = this.tokens.next();
        let ops: ClaimedOperation[];
        try {
          ops = await d.store.claimOperations({ provider: d.provider, limit, owner: token, now: d.now(), leaseMs: d.leaseMs });
        } catch (err) {
          this.tokens.failed(token);
          throw err;
        }
        this.tokens.claimed(token, ops.length);
        for (const op of ops) this.held.set(op.id, { op, token });
        return ops;
      },
      handle: (op) => {
        // This claim's entry, taken now: once the handler has settled the row, the row can be
        // claimed again (a newer version) before the handler ends, and that claim's entry must
        // be left alone — the handler settles under its own token, never the newer claim's.
        const mine = this.held.get(op.id);
        return this.handle(op, mine?.token ?? d.owner).finally(() => {
          if (this.held.get(op.id) === mine) this.held.delete(op.id);
          if (mine) this.tokens.settled(mine.token);
        });
      },
      // Its own provider's rows only: another provider's backlog would wake this loop every few ms for nothing.
      nextDueAt: () => d.store.nextDueAt('operations', d.provider),
      now: d.now,
      onError: (err, where) => d.log.error('worker error', { where, error: err instanceof Error ? err.message : String(err) }),
    });
  }

  start(): void {
    this.pump.start();
    // No call outlives its lease: what we still hold is renewed well before it expires.
    this.renewTimer = setInterval(() => void this.renew(), Math.max(250, Math.floor(this.d.leaseMs / 3)));
    this.renewTimer.unref();
  }

  wake(): void {
    this.pump.wake();
  }

  get active(): number {
    return this.pump.active;
  }

  /** Stops claiming, waits up to `graceMs` for calls in flight, then releases every lease still held. */
  async stop(graceMs: number): Promise<{ drained: boolean; released: number }> {
    await this.pump.stop();
    const drained = await this.pump.drained(graceMs);
    if (this.renewTimer) clearInterval(this.renewTimer);
    let released = 0;
    for (const token of this.tokens.all()) released += await this.d.store.releaseLeases(token).catch(() => 0);
    return { drained, released };
  }

  private async renew(): Promise<void> {
    if (this.held.size === 0) return;
    const byToken = new Map<string, number[]>();
    for (const [id, h] of this.held) byToken.set(h.token, [...(byToken.get(h.token) ?? []), id]);
    try {
      for (const [token, ids] of byToken) await this.d.store.renewOperationLeases(ids, token, this.d.now(), this.d.leaseMs);
    } catch (err) {
      this.d.log.warn('could not renew leases', { provider: this.d.provider, error: err instanceof Error ? err.message : String(err) });
    }
  }

  /** Writes an outcome, riding out a short store outage (until the lease would have expired anyway). */
  private persist(write: () => Promise<unknown>): Promise<void> {
    return persistOutcome(write, this.d.now() + this.d.leaseMs, this.d.now, (err) =>
      this.d.log.warn('could not record a tag call outcome yet; trying again', { provider: this.d.provider, error: err instanceof Error ? err.message : String(err) }),
    );
  }

  /** `owner`: the lease owner `op` was claimed under. */
  private async handle(op: ClaimedOperation, owner: string): Promise<void> {
    const { store, metrics, provider } = this.d;
    const log = this.d.log.child({ provider, opId: op.id, version: op.version, tagId: op.tagId, action: op.action, userId: op.userId });
    if (!this.d.tagger) {
      const reason = unconfiguredReason(provider);
      await this.persist(() => store.deadLetterOperation(op, owner, this.d.now(), { reason }));
      metrics.tagOperations.inc({ provider, outcome: 'dead' });
      this.d.onOutcome?.({ op, outcome: 'dead', reason });
      log.warn('tag operation kept as a dead letter: provider not configured', { reason });
      return;
    }
    const wait = this.gate.take();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const started = this.d.now();
    const endTimer = metrics.tagCallDuration.startTimer({ provider });
    try {
      await this.d.tagger.apply(op);
      endTimer();
    } catch (err) {
      endTimer();
      const failure: FailureFacts & { status?: number; bodyExcerpt?: string } =
        err instanceof TagApiError
          ? err
          : { retryable: true, notFound: false, reason: `unexpected error: ${err instanceof Error ? err.message : String(err)}` };
      await this.failed(op, owner, failure, log);
      return;
    }
    let current = false;
    await this.persist(async () => {
      current = await store.completeOperation(op, owner, this.d.now(), { status: 200 });
    });
    metrics.tagOperations.inc({ provider, outcome: current ? 'applied' : 'superseded' });
    this.d.onOutcome?.({ op, outcome: current ? 'applied' : 'superseded', status: 200 });
    log.info('tag operation applied', { ms: this.d.now() - started, superseded: !current });
    if (!current) this.pump.wake();
  }

  private async failed(
    op: ClaimedOperation,
    owner: string,
    failure: FailureFacts & { status?: number; bodyExcerpt?: string },
    log: Logger,
  ): Promise<void> {
    const { store, metrics, provider } = this.d;
    if (failure.status === 429 || failure.retryAfterMs !== undefined) this.gate.limited(failure.retryAfterMs);
    const now = this.d.now();
    const decision = decideAfterFailure(op, failure, this.d.policy, now, this.d.random);
    const outcome = { status: failure.status, error: failure.reason, bodyExcerpt: failure.bodyExcerpt };
    if (decision.kind === 'retry') {
      await this.persist(() => store.retryOperation(op, owner, now, { ...outcome, dueAt: decision.dueAt, notFound: failure.notFound }));
      metrics.tagOperations.inc({ provider, outcome: 'retry' });
      this.d.onOutcome?.({ op, outcome: 'retry', reason: failure.reason, status: failure.status });
      log.warn('tag operation failed, will retry', { reason: failure.reason, status: failure.status, inMs: decision.dueAt - now, attempt: op.attempts + 1 });
    } else {
      await this.persist(() => store.deadLetterOperation(op, owner, now, { ...outcome, reason: decision.reason }));
      metrics.tagOperations.inc({ provider, outcome: 'dead' });
      this.d.onOutcome?.({ op, outcome: 'dead', reason: decision.reason, status: failure.status });
      log.error('tag operation is a dead letter', { reason: decision.reason, status: failure.status });
    }
  }
}
