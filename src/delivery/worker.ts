import { EventEmitter } from 'node:events';
import type { Config } from '../config';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import type { Tagger } from '../providers/taggers';
import type { Store } from '../store/store';
import { PROVIDERS, type Provider } from '../tag-operation';
import { ForwardWorker, type ForwardOutcome } from './forward-worker';
import { OperationWorker, type OperationOutcome } from './operation-worker';

export interface DeliveryEvents {
  operation: [OperationOutcome];
  forward: [ForwardOutcome];
}

export interface DeliveryDeps {
  store: Store;
  config: Config;
  log: Logger;
  metrics: Metrics;
  /** A tagger per configured provider; a provider without one has its operations kept as dead letters. */
  taggers: Partial<Record<Provider, Tagger>>;
  /** Identifies this process's leases (unique per instance and start). */
  owner: string;
  now?: () => number;
  random?: () => number;
}

/**
 * Everything that goes out: one loop per provider for tag operations and one per
 * forward destination. Woken by the store when work arrives (LISTEN/NOTIFY across
 * instances with PostgreSQL); timers are only the safety net.
 */
export class Delivery {
  readonly operations: Map<Provider, OperationWorker>;
  readonly forwards: ForwardWorker[];
  /** `operation` and `forward` outcomes, as they happen. */
  readonly events = new EventEmitter<DeliveryEvents>();
  private unsubscribe: (() => void) | undefined;
  private unwatchSession: (() => void) | undefined;
  private readonly now: () => number;

  constructor(private readonly d: DeliveryDeps) {
    this.now = d.now ?? Date.now;
    const { config } = d;
    this.operations = new Map(
      PROVIDERS.map((provider) => [
        provider,
        new OperationWorker({
          provider,
          store: d.store,
          tagger: d.taggers[provider],
          policy: config.retry,
          concurrency: config.providerConcurrency,
          leaseMs: config.leaseMs,
          callTimeoutMs: config.tagApiTimeoutMs,
          owner: d.owner,
          log: d.log,
          metrics: d.metrics,
          now: this.now,
          random: d.random,
          onOutcome: (o) => this.events.emit('operation', o),
        }),
      ]),
    );
    const destinations = [...new Set(config.endpoints.flatMap((e) => e.forwardUrls))];
    this.forwards = destinations.map(
      (destination) =>
        new ForwardWorker({
          destination,
          store: d.store,
          timeoutMs: config.forward.timeoutMs,
          giveUpMs: config.forward.giveUpMs,
          retry: { minMs: config.retry.minMs, maxMs: config.retry.maxMs },
          concurrency: config.forward.concurrency,
          leaseMs: config.leaseMs,
          owner: d.owner,
          log: d.log,
          metrics: d.metrics,
          now: this.now,
          onOutcome: (o) => this.events.emit('forward', o),
        }),
    );
    this.events.setMaxListeners(0);
  }

  async start(): Promise<void> {
    const { store, log } = this.d;
    if (store.engine === 'sqlite') {
      // One instance per SQLite file: every lease left behind belongs to a process that is gone.
      const released = await store.releaseAllLeases();
      if (released > 0) log.info('released leases left by an earlier process', { released });
    }
    for (const provider of PROVIDERS) {
      if (!this.d.taggers[provider]) continue;
      const requeued = await store.requeueDeadOperations(provider, 'provider_not_configured', this.now());
      if (requeued > 0) log.info('queued again the operations kept while the provider had no token', { provider, requeued });
    }
    // Held before the first claim: with PostgreSQL, claims name this instance's session as their holder.
    const session = await store.startSession();
    this.unwatchSession = session.onChange((live) => {
      if (live) log.info('delivery resumes under a new database session');
      else log.warn('delivery paused: the database session was lost; calls in flight were aborted', { inFlight: this.active });
    });
    this.unsubscribe = store.onWork((kind) => this.wake(kind));
    for (const w of this.operations.values()) w.start(session);
    for (const w of this.forwards) w.start(session);
  }

  /** Calls in flight, over every loop. */
  get active(): number {
    return [...this.operations.values()].reduce((n, w) => n + w.active, 0) + this.forwards.reduce((n, w) => n + w.active, 0);
  }

  wake(kind: 'operations' | 'forwards' = 'operations'): void {
    if (kind === 'operations') for (const w of this.operations.values()) w.wake();
    else for (const w of this.forwards) w.wake();
  }

  /** Stops claiming, waits up to `graceMs` for in-flight calls, then releases what is still held. */
  async stop(graceMs: number): Promise<void> {
    this.unsubscribe?.();
    this.unwatchSession?.();
    const results = await Promise.all([
      ...[...this.operations.values()].map((w) => w.stop(graceMs)),
      ...this.forwards.map((w) => w.stop(graceMs)),
    ]);
    const released = results.reduce((n, r) => n + r.released, 0);
    this.d.log.info('delivery stopped', { drained: results.every((r) => r.drained), released });
  }
}
