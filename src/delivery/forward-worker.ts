import { Agent } from 'undici';
import type { Logger } from '../log';
import { destinationLabel, type Metrics } from '../metrics';
import type { ClaimedForward, Store } from '../store/store';
import { nextAttemptDelay } from './backoff';
import { formatDuration } from '../duration';
import { sendForward } from './forward';
import { ClaimTokens } from './claim-tokens';
import { persistOutcome } from './persist';
import { Pump } from './pump';

export interface ForwardWorkerDeps {
  destination: string;
  store: Store;
  timeoutMs: number;
  giveUpMs: number;
  retry: { minMs: number; maxMs: number };
  concurrency: number;
  leaseMs: number;
  owner: string;
  log: Logger;
  metrics: Metrics;
  now: () => number;
  onOutcome?: (outcome: ForwardOutcome) => void;
}

export interface ForwardOutcome {
  forward: ClaimedForward;
  outcome: 'delivered' | 'retry' | 'dead';
  reason?: string;
  status?: number;
}

/**
 * Forwards to ONE destination, with its own connection pool and its own loop,
 * so a slow or failing downstream never delays another. The store hands out only
 * the oldest unfinished forward of each ordering key, so one user's webhooks
 * arrive in the order received.
 */
export class ForwardWorker {
  private readonly pump: Pump<ClaimedForward>;
  private readonly agent: Agent;
  private readonly label: string;
  private readonly tokens: ClaimTokens;
  /** The lease token each forward in hand was claimed under. */
  private readonly held = new Map<number, string>();

  constructor(private readonly d: ForwardWorkerDeps) {
    this.label = destinationLabel(d.destination);
    this.tokens = new ClaimTokens(d.owner);
    this.agent = new Agent({ keepAliveTimeout: 30_000, connections: d.concurrency });
    this.pump = new Pump<ClaimedForward>({
      name: `forwards/${this.label}`,
      concurrency: () => d.concurrency,
      claim: async (limit) => {
        if (this.tokens.hasOrphans) await this.tokens.releaseOrphans((t) => d.store.releaseLeases(t));
        const token = this.tokens.next();
        let claimed: ClaimedForward[];
        try {
          claimed = await d.store.claimForwards({ destinations: [d.destination], limit, owner: token, now: d.now(), leaseMs: d.leaseMs });
        } catch (err) {
          this.tokens.failed(token);
          throw err;
        }
        this.tokens.claimed(token, claimed.length);
        for (const f of claimed) this.held.set(f.id, token);
        return claimed;
      },
      handle: (fwd) =>
        this.handle(fwd).finally(() => {
          const token = this.held.get(fwd.id);
          this.held.delete(fwd.id);
          if (token) this.tokens.settled(token);
        }),
      // Its own destination's forwards only: another destination's backlog would wake this loop for nothing.
      nextDueAt: () => d.store.nextDueAt('forwards', d.destination),
      now: d.now,
      onError: (err, where) => d.log.error('forward worker error', { where, error: err instanceof Error ? err.message : String(err) }),
    });
  }

  start(): void {
    this.pump.start();
  }

  wake(): void {
    this.pump.wake();
  }

  /** Stops claiming, waits up to `graceMs` for forwards in flight, then releases every lease still held. */
  async stop(graceMs: number): Promise<{ drained: boolean; released: number }> {
    await this.pump.stop();
    const drained = await this.pump.drained(graceMs);
    let released = 0;
    for (const token of this.tokens.all()) released += await this.d.store.releaseLeases(token).catch(() => 0);
    await this.agent.close().catch(() => undefined);
    return { drained, released };
  }

  private persist(write: () => Promise<unknown>): Promise<void> {
    return persistOutcome(write, this.d.now() + this.d.leaseMs, this.d.now, (err) =>
      this.d.log.warn('could not record a forward outcome yet; trying again', { destination: this.label, error: err instanceof Error ? err.message : String(err) }),
    );
  }

  private async handle(fwd: ClaimedForward): Promise<void> {
    const { store, metrics, log } = this.d;
    const owner = this.held.get(fwd.id) ?? this.d.owner;
    const end = metrics.forwardDuration.startTimer({ destination: this.label });
    const result = await sendForward(fwd.destination, fwd.body, fwd.headers, { timeoutMs: this.d.timeoutMs, dispatcher: this.agent });
    end();
    const now = this.d.now();
    const outcome = { status: result.status, error: result.reason, bodyExcerpt: result.bodyExcerpt };
    if (result.ok) {
      await this.persist(() => store.completeForward(fwd, owner, now, outcome));
      metrics.forwards.inc({ destination: this.label, outcome: 'delivered' });
      this.d.onOutcome?.({ forward: fwd, outcome: 'delivered', status: result.status });
      log.debug('forward delivered', { destination: this.label, forwardId: fwd.id, ms: now - fwd.receivedAt });
      return;
    }
    // LINE reply tokens expire quickly, so forwards give up FORWARD_GIVE_UP_MS after receipt.
    const giveUpAt = fwd.receivedAt + this.d.giveUpMs;
    if (result.retryable && now < giveUpAt) {
      const delay = nextAttemptDelay(fwd.attempts, this.d.retry, result.retryAfterMs);
      const dueAt = Math.min(now + delay, giveUpAt);
      await this.persist(() => store.retryForward(fwd, owner, now, { ...outcome, dueAt }));
      metrics.forwards.inc({ destination: this.label, outcome: 'retry' });
      this.d.onOutcome?.({ forward: fwd, outcome: 'retry', reason: result.reason, status: result.status });
      log.warn('forward failed, will retry', { destination: this.label, forwardId: fwd.id, reason: result.reason, inMs: dueAt - now });
      return;
    }
    const reason = result.retryable
      ? `${result.reason} — gave up ${formatDuration(now - fwd.receivedAt)} after receipt (FORWARD_GIVE_UP_MS)`
      : result.reason;
    await this.persist(() => store.deadLetterForward(fwd, owner, now, { ...outcome, reason }));
    metrics.forwards.inc({ destination: this.label, outcome: 'dead' });
    this.d.onOutcome?.({ forward: fwd, outcome: 'dead', reason, status: result.status });
    log.error('forward is a dead letter', { destination: this.label, forwardId: fwd.id, reason });
  }
}
