import { EventEmitter } from 'node:events';
import { createAccountRouter } from '../channels/account-router';
import { secretsOf, type Config } from '../config';
import { destinationLabel } from '../destination-label';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import type { Tagger } from '../providers/taggers';
import { DEAD_LETTER_CODES, type CallerRoles, type Store } from '../store/store';
import { NO_ACCOUNT } from '../tag-operation';
import type { AckPressure } from './ack-pressure';
import { ForwardWorker, type ForwardOutcome } from './forward-worker';
import { OperationWorker, type OperationOutcome } from './operation-worker';
import { honourStoredPauses } from './stored-pauses';
import { startFromStoredEstimates } from './stored-estimates';
import { unroutableReason } from './unroutable';

/** The name of the loop that keeps the operations no configured account can take as dead letters. */
export const UNROUTABLE = '(no account)';

/**
 * How often new work wakes the UNROUTABLE loop at most. Its operations are rare (a gap in the
 * configuration) and only kept as dead letters, but every accepted webhook wakes every loop,
 * and each wake-up costs a loop a claim, an expiry check and a next-due query: at a thousand
 * webhooks a second that loop's empty claims were as many statements as the real one's.
 */
export const UNROUTABLE_WAKE_MS = 1000;

export interface DeliveryEvents {
  operation: [OperationOutcome];
  forward: [ForwardOutcome];
}

export interface DeliveryDeps {
  store: Store;
  config: Config;
  log: Logger;
  metrics: Metrics;
  /** A tagger per configured account, by name; operations of any other account are kept as dead letters. */
  taggers: ReadonlyMap<string, Tagger>;
  /** Identifies this process's leases (unique per instance and start). */
  owner: string;
  /** How the webhook answers fare: the adaptive tag loops stay at their start while they are slow. */
  ackPressure?: AckPressure;
  now?: () => number;
  random?: () => number;
}

/**
 * Everything that goes out: one loop per configured account for tag operations (its
 * own rate gate, retries and token pair), one that keeps the operations no configured
 * account can take as dead letters, and one per forward destination. Woken by the
 * store when work arrives (LISTEN/NOTIFY across instances with PostgreSQL); timers
 * are only the safety net. A `Retry-After` pause is the account's, not the instance's:
 * heard from the instances running (NOTIFY) and read from the store at start and after
 * the LISTEN connection was down, so no instance calls the account before it ends.
 */
export class Delivery {
  /** By account name; UNROUTABLE for the loop of operations no configured account can take. */
  readonly operations: Map<string, OperationWorker>;
  readonly forwards: ForwardWorker[];
  /** `operation` and `forward` outcomes, as they happen. */
  readonly events = new EventEmitter<DeliveryEvents>();
  private unsubscribe: (() => void) | undefined;
  private unsubscribePause: (() => void) | undefined;
  private unwatchSession: (() => void) | undefined;
  private readonly now: () => number;
  /** PROVIDER_CALLERS=one with PostgreSQL: this instance calls an account only while it holds the account's role. */
  private callers: CallerRoles | undefined;
  private unwatchCallers: (() => void) | undefined;
  private unroutableWoken = -Infinity;
  private unroutableTimer: NodeJS.Timeout | undefined;
  /** The latest read of the stored pauses: one at a time, the start's first (so its log line is the start's). */
  private pausesRead: Promise<void> = Promise.resolve();

  constructor(private readonly d: DeliveryDeps) {
    this.now = d.now ?? Date.now;
    const { config } = d;
    const accounts = [...d.taggers.keys()];
    // Only an account's sole caller learns the account's limit (its gate sees every call the
    // bucket takes): with PROVIDER_CALLERS=every each instance learns its share only.
    const keepsEstimate = d.store.engine === 'sqlite' || config.providerCallers === 'one';
    const loops = [
      ...accounts.map((account) => ({ name: account, scope: { account }, tagger: d.taggers.get(account) })),
      { name: UNROUTABLE, scope: { accountsOtherThan: accounts }, tagger: undefined },
    ];
    this.operations = new Map(
      loops.map(({ name, scope, tagger }) => [
        name,
        new OperationWorker({
          name,
          scope,
          store: d.store,
          tagger,
          unroutable: (op) => unroutableReason(op, config),
          policy: config.retry,
          concurrency: config.providerConcurrency,
          pressure: d.ackPressure,
          leaseMs: config.leaseMs,
          callTimeoutMs: config.tagApiTimeoutMs,
          owner: d.owner,
          log: d.log,
          metrics: d.metrics,
          now: this.now,
          random: d.random,
          // The loop of operations no account can take calls nobody: every instance keeps them as dead letters.
          mayCall: tagger ? () => this.callers?.holds(name) ?? true : undefined,
          keepsEstimate: tagger !== undefined && keepsEstimate,
          onOutcome: (o) => this.events.emit('operation', o),
        }),
      ]),
    );
    const destinations = [...new Set(config.endpoints.flatMap((e) => e.forwardUrls))];
    const secrets = secretsOf(config);
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
          secrets,
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
    await this.requeueWhereAccountsExist();
    // After the requeue: rows given an account just now are re-keyed with that account's.
    await this.rescopePersons();
    await this.keepUnconfiguredForwards();
    // Held before the first claim: with PostgreSQL, claims name this instance's session as their holder.
    const session = await store.startSession();
    this.unwatchSession = session.onChange((live) => {
      if (live) log.info('delivery resumes under a new database session');
      else log.warn('delivery paused: the database session was lost; calls in flight were aborted', { inFlight: this.active });
    });
    // The gates start from the estimates kept in the store: here, or as each caller role is taken (watchCallers).
    if (this.d.store.engine === 'sqlite') await this.startFromEstimates('start');
    this.watchCallers(session.callers);
    this.unsubscribe = store.onWork((kind) => this.wake(kind));
    this.unsubscribePause = store.onPause((news) => {
      if (news.kind === 'unheard') {
        this.pausesRead = this.pausesRead
          .catch(() => undefined)
          .then(() => this.readPauses('unheard'))
          .catch((err: unknown) => {
            log.warn('could not read the Retry-After pauses kept in the store', { err });
          });
        return;
      }
      const worker = this.operations.get(news.account);
      if (!worker) return;
      log.info('calls to a provider account paused: another instance met its Retry-After', { account: news.account, pauseMs: news.ms });
      worker.pausedElsewhere(news.ms);
    });
    // Before the first claim: a pause met before this start (by another instance, or by the
    // process before a restart) holds this instance's calls too.
    this.pausesRead = this.readPauses('start');
    await this.pausesRead;
    for (const w of this.operations.values()) w.start(session);
    for (const w of this.forwards) w.start(session);
  }

  /**
   * One instance at a time calls each account (README "Several instances"): its operations stay
   * queued for whichever instance holds the account's role, which it contends for from the start.
   */
  private watchCallers(callers: CallerRoles | undefined): void {
    if (this.d.config.providerCallers !== 'one' || !callers) return;
    this.callers = callers;
    this.unwatchCallers = callers.onChange((account, held) => {
      const worker = this.operations.get(account);
      // Its calls wait for the estimate the previous caller (or this instance before a restart) kept.
      if (held) worker?.rateGate.holdWhile(this.startFromEstimates('caller', [account]));
    });
    for (const account of this.d.taggers.keys()) callers.want(account);
  }

  /**
   * PROVIDER_CALLERS=one with PostgreSQL: whether this instance holds the caller role of each
   * account it calls (the `autotag_account_caller` gauge); undefined otherwise (every account is called).
   */
  callerRoles(): Map<string, boolean> | undefined {
    const callers = this.callers;
    return callers && new Map([...this.d.taggers.keys()].map((account) => [account, callers.holds(account)]));
  }

  /** Never rejects: a gate whose estimate could not be read starts fresh and learns the limit again (stored-estimates.ts). */
  private startFromEstimates(when: 'start' | 'caller', accounts?: readonly string[]): Promise<void> {
    const workers = new Map([...this.operations].filter(([name]) => this.d.taggers.has(name)));
    return startFromStoredEstimates({ store: this.d.store, workers, accounts, now: this.now, log: this.d.log, when });
  }

  private readPauses(when: 'start' | 'unheard'): Promise<void> {
    return honourStoredPauses({ store: this.d.store, workers: this.operations, now: this.now(), log: this.d.log, when });
  }

  /** Calls in flight, over every loop. */
  get active(): number {
    return [...this.operations.values()].reduce((n, w) => n + w.active, 0) + this.forwards.reduce((n, w) => n + w.active, 0);
  }

  /**
   * Operations kept because no account could take them are queued again at the first
   * start where one can: those of an account that is configured now, and those that had
   * none, once their channel (or the environment) has an account for their provider.
   */
  private async requeueWhereAccountsExist(): Promise<void> {
    const { store, log } = this.d;
    for (const account of this.d.taggers.keys()) {
      let requeued = 0;
      for (const code of DEAD_LETTER_CODES) requeued += await store.requeueDeadOperations(account, code, this.now());
      if (requeued > 0) log.info('queued again the operations kept while their account was not configured', { account, requeued });
    }
    const router = createAccountRouter(this.d.config.endpoints, this.d.config.accounts);
    for (const { provider, channel } of await store.accountlessOperations()) {
      const account = router.defaultAccount(channel, provider);
      if (account === NO_ACCOUNT || !this.d.taggers.has(account)) continue;
      const requeued = await store.assignAccount({ provider, channel, account }, this.now());
      if (requeued > 0) log.info('queued again the operations kept without an account, in the account that now takes them', { provider, channel, account, requeued });
    }
  }

  /**
   * Forwards queued for a destination the configuration no longer names (a forward URL removed
   * or changed while they waited) have no loop to send them: they are kept as dead letters,
   * saying why, instead of waiting for ever (`dead-letters retry` queues them again; they are
   * kept again at the next start unless the URL is configured again by then).
   */
  private async keepUnconfiguredForwards(): Promise<void> {
    const { store, log, metrics } = this.d;
    const configured = this.forwards.map((w) => w.destination);
    const kept = await store.deadLetterForwardsNotTo(configured, this.now(), (url) => `not sent: its destination ${destinationLabel(url)} is no longer configured (LINE_FORWARD_URLS, FACEBOOK_FORWARD_URLS, WHATSAPP_FORWARD_URLS, or a channel's forward_urls)`);
    for (const [url, count] of kept) {
      const destination = destinationLabel(url);
      metrics.forwards.inc({ destination, outcome: 'dead' }, count);
      log.error('forwards to a destination no longer configured kept as dead letters', { destination, count });
    }
  }

  /**
   * Desired state is keyed by the person as the provider identifies them (CONTRACT "Order"),
   * which an account's settings can decide (BotBonnie's LINE pid): rows written under another
   * one (the pid set, changed or removed since) are brought under the one of now before any
   * claim, so one person never has two rows (an old row's pending removal undoing a newer add).
   */
  private async rescopePersons(): Promise<void> {
    const { store, log } = this.d;
    for (const account of this.d.config.accounts) {
      const provider = account.provider;
      if (!provider.personByRecipient) continue;
      for (const platform of provider.platforms) {
        const person = provider.personOf?.(account.settings, platform);
        const r = await store.rescopePersons({ account: account.name, provider: provider.name, platform, person });
        if (r.rekeyed + r.merged > 0) {
          log.info('re-keyed desired state to the person the account now names', { account: account.name, platform, person: person ?? '(recipient)', ...r });
        }
      }
    }
  }

  wake(kind: 'operations' | 'forwards' = 'operations'): void {
    if (kind === 'forwards') {
      for (const w of this.forwards) w.wake();
      return;
    }
    for (const [name, w] of this.operations) if (name !== UNROUTABLE) w.wake();
    this.wakeUnroutable();
  }

  /** Wakes the UNROUTABLE loop now, or UNROUTABLE_WAKE_MS after it was last woken (once, however many ask meanwhile). */
  private wakeUnroutable(): void {
    const loop = this.operations.get(UNROUTABLE);
    if (!loop || this.unroutableTimer) return;
    const wait = this.unroutableWoken + UNROUTABLE_WAKE_MS - performance.now();
    const wake = () => {
      this.unroutableTimer = undefined;
      this.unroutableWoken = performance.now();
      loop.wake();
    };
    if (wait <= 0) wake();
    else this.unroutableTimer = setTimeout(wake, wait).unref();
  }

  /** Stops claiming, waits up to `graceMs` for in-flight calls, then releases what is still held. */
  async stop(graceMs: number): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribePause?.();
    this.unwatchSession?.();
    clearTimeout(this.unroutableTimer);
    // At once, not after the grace: another instance calls the accounts while the last calls here end.
    await this.callers?.releaseAll();
    this.unwatchCallers?.();
    const results = await Promise.all([
      ...[...this.operations.values()].map((w) => w.stop(graceMs)),
      ...this.forwards.map((w) => w.stop(graceMs)),
    ]);
    const released = results.reduce((n, r) => n + r.released, 0);
    this.d.log.info('delivery stopped', { drained: results.every((r) => r.drained), released });
  }
}
