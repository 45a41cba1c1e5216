import type { Logger } from '../log';
import { ALWAYS_LIVE } from '../store/shared/always-live';
import type { InstanceSession } from '../store/store';
import { CallLease } from './call-lease';
import { ClaimTokens } from './claim-tokens';
import { persistOutcome } from './persist';
import { Pump } from './pump';

/** How long a loop sleeps between looks while the store's session is lost (a new session wakes it sooner). */
const SESSION_LOST_PAUSE_MS = 5000;

export interface LeasedLoopOptions<T extends { id: number }> {
  /** For logs: `operations/mantago`, `forwards/https://bot.example.com/…`. */
  name: string;
  /** This process's lease owner; each claim leases under a token of its own (see ClaimTokens). */
  owner: string;
  leaseMs: number;
  /**
   * How long one call may take (TAG_API_TIMEOUT_MS, FORWARD_TIMEOUT_MS): the calls for
   * the items of a claim are aborted this long after it. `claim` passes it to the store.
   */
  callMs: number;
  concurrency: () => number;
  /** Milliseconds to wait before claiming more (a Retry-After pause, rate pacing); 0 to go on. */
  gate?: () => number;
  /** How many of the `free` slots to fill (a rate gate may allow fewer); default all. */
  limit?: (free: number) => number;
  claim(limit: number, owner: string): Promise<T[]>;
  /**
   * Works on one item, claimed under `owner`; passes `lease.signal` to every call it
   * makes, and writes its outcome with `LeasedLoop.persist` — nothing when the lease
   * was abandoned (the call failed because the session was lost).
   */
  handle(item: T, owner: string, lease: CallLease): Promise<void>;
  /** Extends the leases of items still in hand. Without it nothing is renewed (calls end before the lease does). */
  renew?(ids: number[], owner: string): Promise<void>;
  /** Releases every lease of `owner`. */
  release(owner: string): Promise<number>;
  /** When this loop's next item is due (its own items only: another loop's backlog would wake it for nothing). */
  nextDueAt(): Promise<number | null>;
  now(): number;
  log: Logger;
  /** Fields that say which loop a log line is about, e.g. `{ provider }`. */
  logFields: Record<string, string>;
}

/** After the grace, how long stop waits for the calls it aborted to end (they end at once, unless a handler hangs). */
const ABORTED_CALLS_END_MS = 1000;

/**
 * What both workers do around their calls: claim due items under a fresh lease token,
 * hold them while they are worked on, renew their leases, write outcomes through a
 * short store outage, and on stop release whatever is still held. While the store's
 * session is lost (PostgreSQL) nothing is claimed and no call starts; calls in flight
 * are aborted (their CallLease's signal) and their leases released once a new session
 * is held.
 */
export class LeasedLoop<T extends { id: number }> {
  private readonly pump: Pump<T>;
  private readonly tokens: ClaimTokens;
  /** Items in hand, with the lease token each was claimed under and the lease of its calls. */
  private readonly held = new Map<number, { token: string; lease: CallLease }>();
  private renewTimer: NodeJS.Timeout | undefined;
  private session: InstanceSession = ALWAYS_LIVE;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly o: LeasedLoopOptions<T>) {
    this.tokens = new ClaimTokens(o.owner);
    this.pump = new Pump<T>({
      name: o.name,
      concurrency: o.concurrency,
      gate: () => (this.session.live ? (o.gate?.() ?? 0) : SESSION_LOST_PAUSE_MS),
      claim: (free) => this.claim(free),
      handle: (item) => {
        const held = this.held.get(item.id);
        if (!held) return Promise.reject(new Error(`${o.name}: item ${item.id} was handed out without a claim`));
        const { token, lease } = held;
        // Lost between the claim and now: no call starts for it.
        const work = lease.abandoned ? Promise.resolve() : o.handle(item, token, lease);
        return work.finally(() => {
          // Once settled, the row may be claimed again (a newer version) before this handler
          // ends: that claim's entry, under its own token, stays.
          if (this.held.get(item.id)?.token === token) this.held.delete(item.id);
          lease.done();
          if (lease.abandoned) this.tokens.abandon(token);
          this.tokens.settled(token);
        });
      },
      nextDueAt: o.nextDueAt,
      now: o.now,
      onError: (err, where) => o.log.error('worker error', { where, error: messageOf(err) }),
    });
  }

  /** Starts claiming while `session` is held (default: always). */
  start(session: InstanceSession = ALWAYS_LIVE): void {
    this.session = session;
    // A new session: claim again now, and release what the lost one left leased.
    this.unsubscribe = session.onChange((live) => {
      if (live) this.pump.wake();
    });
    this.pump.start();
    if (this.o.renew) {
      // No call outlives its lease: what is still held is renewed well before it expires.
      this.renewTimer = setInterval(() => void this.renew(), Math.max(250, Math.floor(this.o.leaseMs / 3)));
      this.renewTimer.unref();
    }
  }

  /** New work may be due: claim now instead of waiting for a timer. */
  wake(): void {
    this.pump.wake();
  }

  get active(): number {
    return this.pump.active;
  }

  /** Stops claiming, waits up to `graceMs` for work in hand, then releases every lease still held. */
  async stop(graceMs: number): Promise<{ drained: boolean; released: number }> {
    this.unsubscribe?.();
    await this.pump.stop();
    const drained = await this.pump.drained(graceMs);
    if (this.renewTimer) clearInterval(this.renewTimer);
    // Taken before the calls still in hand end: their tokens are gone from the list once they do.
    const held = this.tokens.all();
    if (!drained) {
      // The grace is over: what is still in hand is aborted and left as it is queued (each
      // handler sees `lease.released` and writes nothing); they end within a moment.
      for (const { lease } of this.held.values()) lease.releaseAtStop();
      await this.pump.drained(ABORTED_CALLS_END_MS);
    }
    let released = 0;
    for (const token of new Set([...held, ...this.tokens.all()])) released += await this.o.release(token).catch(() => 0);
    return { drained, released };
  }

  /**
   * Writes an outcome, riding out a short store outage until the lease would have
   * expired anyway (then the item comes back by itself) or until the lease is
   * abandoned. Under an abandoned lease it tries once: the write only counts while
   * this owner still holds the row, and the row comes back by itself otherwise.
   */
  async persist(write: () => Promise<unknown>, what: string, lease: CallLease): Promise<void> {
    if (lease.abandoned) {
      await write().catch((err: unknown) =>
        this.o.log.warn(`${what} not recorded: the database session was lost; the item comes back by itself`, { ...this.o.logFields, error: messageOf(err) }),
      );
      return;
    }
    return persistOutcome(
      write,
      this.o.now() + this.o.leaseMs,
      this.o.now,
      (err) => this.o.log.warn(`could not record ${what} yet; trying again`, { ...this.o.logFields, error: messageOf(err) }),
      () => lease.abandoned,
    );
  }

  private async claim(free: number): Promise<T[]> {
    const limit = this.o.limit ? this.o.limit(free) : free;
    if (limit <= 0 || !this.session.live) return [];
    if (this.tokens.hasOrphans) await this.tokens.releaseOrphans((t) => this.o.release(t));
    const token = this.tokens.next();
    // Before the claim is sent: its deadline must not be later than the one the store records.
    const lease = new CallLease(this.session.signal, this.o.callMs);
    let items: T[];
    try {
      items = await this.o.claim(limit, token);
    } catch (err) {
      lease.hold(0);
      // The claim may have committed with its answer lost: its rows are released once the store answers.
      this.tokens.failed(token);
      throw err;
    }
    lease.hold(items.length);
    this.tokens.claimed(token, items.length);
    for (const item of items) this.held.set(item.id, { token, lease });
    return items;
  }

  private async renew(): Promise<void> {
    const renew = this.o.renew;
    if (!renew || this.held.size === 0 || !this.session.live) return;
    const byToken = new Map<string, number[]>();
    for (const [id, { token, lease }] of this.held) {
      if (!lease.abandoned) byToken.set(token, [...(byToken.get(token) ?? []), id]);
    }
    try {
      for (const [token, ids] of byToken) await renew(ids, token);
    } catch (err) {
      this.o.log.warn('could not renew leases', { ...this.o.logFields, error: messageOf(err) });
    }
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
