import type { Logger } from '../log';
import { ClaimTokens } from './claim-tokens';
import { persistOutcome } from './persist';
import { Pump } from './pump';

export interface LeasedLoopOptions<T extends { id: number }> {
  /** For logs: `operations/mantago`, `forwards/https://bot.example.com/…`. */
  name: string;
  /** This process's lease owner; each claim leases under a token of its own (see ClaimTokens). */
  owner: string;
  leaseMs: number;
  concurrency: () => number;
  /** Milliseconds to wait before claiming more (a Retry-After pause, rate pacing); 0 to go on. */
  gate?: () => number;
  /** How many of the `free` slots to fill (a rate gate may allow fewer); default all. */
  limit?: (free: number) => number;
  claim(limit: number, owner: string): Promise<T[]>;
  /** Works on one item, claimed under `owner`; writes its outcome with `LeasedLoop.persist`. */
  handle(item: T, owner: string): Promise<void>;
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

/**
 * What both workers do around their calls: claim due items under a fresh lease token,
 * hold them while they are worked on, renew their leases, write outcomes through a
 * short store outage, and on stop release whatever is still held.
 */
export class LeasedLoop<T extends { id: number }> {
  private readonly pump: Pump<T>;
  private readonly tokens: ClaimTokens;
  /** Items in hand, with the lease token each was claimed under. */
  private readonly held = new Map<number, string>();
  private renewTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: LeasedLoopOptions<T>) {
    this.tokens = new ClaimTokens(o.owner);
    this.pump = new Pump<T>({
      name: o.name,
      concurrency: o.concurrency,
      ...(o.gate ? { gate: o.gate } : {}),
      claim: (free) => this.claim(free),
      handle: (item) => {
        const token = this.held.get(item.id) ?? o.owner;
        return o.handle(item, token).finally(() => {
          // Once settled, the row may be claimed again (a newer version) before this handler
          // ends: that claim's entry, under its own token, stays.
          if (this.held.get(item.id) === token) this.held.delete(item.id);
          this.tokens.settled(token);
        });
      },
      nextDueAt: o.nextDueAt,
      now: o.now,
      onError: (err, where) => o.log.error('worker error', { where, error: messageOf(err) }),
    });
  }

  start(): void {
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
    await this.pump.stop();
    const drained = await this.pump.drained(graceMs);
    if (this.renewTimer) clearInterval(this.renewTimer);
    let released = 0;
    for (const token of this.tokens.all()) released += await this.o.release(token).catch(() => 0);
    return { drained, released };
  }

  /**
   * Writes an outcome, riding out a short store outage until the lease would have
   * expired anyway (then the item comes back by itself).
   */
  persist(write: () => Promise<unknown>, what: string): Promise<void> {
    return persistOutcome(write, this.o.now() + this.o.leaseMs, this.o.now, (err) =>
      this.o.log.warn(`could not record ${what} yet; trying again`, { ...this.o.logFields, error: messageOf(err) }),
    );
  }

  private async claim(free: number): Promise<T[]> {
    const limit = this.o.limit ? this.o.limit(free) : free;
    if (limit <= 0) return [];
    if (this.tokens.hasOrphans) await this.tokens.releaseOrphans((t) => this.o.release(t));
    const token = this.tokens.next();
    let items: T[];
    try {
      items = await this.o.claim(limit, token);
    } catch (err) {
      // The claim may have committed with its answer lost: its rows are released once the store answers.
      this.tokens.failed(token);
      throw err;
    }
    this.tokens.claimed(token, items.length);
    for (const item of items) this.held.set(item.id, token);
    return items;
  }

  private async renew(): Promise<void> {
    const renew = this.o.renew;
    if (!renew || this.held.size === 0) return;
    const byToken = new Map<string, number[]>();
    for (const [id, token] of this.held) byToken.set(token, [...(byToken.get(token) ?? []), id]);
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
