import { Agent } from 'undici';
import type { Logger } from '../log';
import { destinationLabel } from '../destination-label';
import type { Metrics } from '../metrics';
import type { AttemptOutcome, ClaimedForward, InstanceSession, Store } from '../store/store';
import { formatDuration } from '../format-time';
import { gaveUpEarlyNote, nextAttemptDelay, retryDueAt } from './backoff';
import type { CallLease } from './call-lease';
import { sendForward } from './forward';
import { LeasedLoop } from './leased-loop';

/** The attempt a retry set for the end of a forward's give-up window is made if claimed within this of its due time. */
const FINAL_ATTEMPT_LATE_MS = 5000;

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
  /** Masked in the answers kept (config.ts secretsOf). */
  secrets?: readonly string[];
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
  private readonly loop: LeasedLoop<ClaimedForward>;
  private readonly agent: Agent;
  private readonly label: string;

  constructor(private readonly d: ForwardWorkerDeps) {
    this.label = destinationLabel(d.destination);
    this.agent = new Agent({ keepAliveTimeout: 30_000, connections: d.concurrency });
    this.loop = new LeasedLoop<ClaimedForward>({
      name: `forwards/${this.label}`,
      owner: d.owner,
      leaseMs: d.leaseMs,
      callMs: d.timeoutMs,
      concurrency: () => d.concurrency,
      claim: (limit, owner) =>
        d.store.claimForwards({ destinations: [d.destination], limit, owner, now: d.now(), leaseMs: d.leaseMs, callMs: d.timeoutMs }),
      handle: (fwd, owner, lease) => this.handle(fwd, owner, lease),
      // No renewal: a forward's timeout (FORWARD_TIMEOUT_MS) is shorter than its lease.
      release: (owner) => d.store.releaseLeases(owner),
      // Its own destination's forwards only: another destination's backlog would wake this loop for nothing.
      nextDueAt: () => d.store.nextDueAt('forwards', d.destination),
      now: d.now,
      log: d.log,
      logFields: { destination: this.label },
    });
  }

  start(session?: InstanceSession): void {
    this.loop.start(session);
  }

  /** The URL this loop forwards to. */
  get destination(): string {
    return this.d.destination;
  }

  wake(): void {
    this.loop.wake();
  }

  get active(): number {
    return this.loop.active;
  }

  /** Stops claiming, waits up to `graceMs` for forwards in flight, then releases every lease still held. */
  async stop(graceMs: number): Promise<{ drained: boolean; released: number }> {
    const result = await this.loop.stop(graceMs);
    await this.agent.close().catch(() => undefined);
    return result;
  }

  private async handle(fwd: ClaimedForward, owner: string, lease: CallLease): Promise<void> {
    const { store, metrics, log } = this.d;
    const persist = (write: () => Promise<unknown>) => this.loop.persist(write, 'a forward outcome', lease);
    const deadLetter = async (now: number, outcome: AttemptOutcome, reason: string) => {
      await persist(() => store.deadLetterForward(fwd, owner, now, { ...outcome, reason }));
      metrics.forwards.inc({ destination: this.label, outcome: 'dead' });
      this.d.onOutcome?.({ forward: fwd, outcome: 'dead', reason, status: outcome.status });
      log.error('forward is a dead letter', { destination: this.label, forwardId: fwd.id, reason });
    };
    // LINE reply tokens expire quickly, so forwards give up FORWARD_GIVE_UP_MS after receipt.
    const giveUpAt = fwd.receivedAt + this.d.giveUpMs;
    // Its time ran out while it waited (the service was down, or a failing forward of its key
    // held it): a dead letter without a call. The last attempt a retry set for the end of the
    // window is still made, when it is claimed on time. `dead-letters retry` restarts the clock.
    const claimedAt = this.d.now();
    const finalAttempt = fwd.dueAt >= giveUpAt && claimedAt - fwd.dueAt <= FINAL_ATTEMPT_LATE_MS;
    if (claimedAt >= giveUpAt && !finalAttempt) {
      // A forward that failed before says how (a retry due just before the end and claimed just after it ends here too).
      const last = fwd.last.error ? `; its last attempt: ${fwd.last.error}` : '';
      const reason = `not sent: ${formatDuration(claimedAt - fwd.receivedAt)} after receipt, past FORWARD_GIVE_UP_MS (${formatDuration(this.d.giveUpMs)})${last}`;
      await deadLetter(claimedAt, fwd.last, reason);
      return;
    }
    // Past its call deadline already (the loop was blocked past it): aborted, so no request goes out.
    lease.checkDeadline();
    const end = metrics.forwardDuration.startTimer({ destination: this.label });
    const result = await sendForward(fwd.destination, fwd.body, fwd.headers, { timeoutMs: this.d.timeoutMs, dispatcher: this.agent, signal: lease.signal, secrets: this.d.secrets });
    end();
    if (!result.ok && lease.abandoned) {
      // Another instance takes the forward at its call deadline; an outcome written now could only delay it.
      log.warn('forward aborted: the database session was lost; its lease is abandoned', { destination: this.label, forwardId: fwd.id, reason: result.reason });
      return;
    }
    if (!result.ok && lease.released) {
      log.info('forward aborted: the service is stopping; the forward stays queued', { destination: this.label, forwardId: fwd.id, reason: result.reason });
      return;
    }
    const now = this.d.now();
    const outcome = { status: result.status, error: result.reason, bodyExcerpt: result.bodyExcerpt };
    if (result.ok) {
      await persist(() => store.completeForward(fwd, owner, now, outcome));
      metrics.forwards.inc({ destination: this.label, outcome: 'delivered' });
      this.d.onOutcome?.({ forward: fwd, outcome: 'delivered', status: result.status });
      log.debug('forward delivered', { destination: this.label, forwardId: fwd.id, ms: now - fwd.receivedAt });
      return;
    }
    const window = { startedAt: fwd.receivedAt, giveUpMs: this.d.giveUpMs };
    const dueAt = result.retryable ? retryDueAt(now, nextAttemptDelay(fwd.attempts, this.d.retry, result.retryAfterMs), window, this.d.retry.minMs) : undefined;
    if (dueAt !== undefined) {
      await persist(() => store.retryForward(fwd, owner, now, { ...outcome, dueAt }));
      metrics.forwards.inc({ destination: this.label, outcome: 'retry' });
      this.d.onOutcome?.({ forward: fwd, outcome: 'retry', reason: result.reason, status: result.status });
      log.warn('forward failed, will retry', { destination: this.label, forwardId: fwd.id, reason: result.reason, inMs: dueAt - now });
      return;
    }
    const reason = result.retryable
      ? `${result.reason} — gave up ${formatDuration(now - fwd.receivedAt)} after receipt (FORWARD_GIVE_UP_MS${gaveUpEarlyNote(now, window, this.d.retry.minMs)})`
      : result.reason;
    await deadLetter(now, outcome, reason);
  }
}
