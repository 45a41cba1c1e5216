/**
 * One claim-and-work loop with bounded concurrency. It sleeps until it is woken
 * (new work was accepted), until the next item is due, or until a safety-net
 * timer fires — it does not poll in a tight loop.
 */
export interface PumpOptions<T> {
  name: string;
  concurrency: () => number;
  /** Milliseconds to wait before claiming more (a Retry-After pause, rate pacing); 0 to go on. */
  gate?: () => number;
  claim: (limit: number) => Promise<T[]>;
  handle: (item: T) => Promise<void>;
  /** When the next item becomes due (epoch ms), or null when nothing waits. */
  nextDueAt: () => Promise<number | null>;
  now: () => number;
  /** Upper bound on any sleep, so a lost wake-up costs at most this long. */
  maxSleepMs?: number;
  onError: (err: unknown, where: string) => void;
}

/**
 * While calls are in flight, a claim waits until at least this share of the slots is
 * free — or GATHER_MS after the previous claim, whichever comes first. Calls that end
 * one by one then cost one claim per few calls instead of one each: a claim is a write
 * (a WAL transaction on SQLite, a round trip on PostgreSQL), and at a thousand calls a
 * second one-row claims were the worker's largest cost (bench/profile-serve). The wait
 * is at most GATHER_MS of a slot's time, a few per cent of a call to a slow API.
 */
export const GATHER_SHARE = 0.25;
export const GATHER_MS = 4;

export class Pump<T> {
  private inFlight = 0;
  private stopping = false;
  private wakeUp: (() => void) | undefined;
  private woken = false;
  private loop: Promise<void> | undefined;
  /** performance.now() of the last claim (see GATHER_MS); real time, whatever clock `now` reads. */
  private lastClaimAt = -Infinity;
  private readonly idle = new Set<() => void>();

  constructor(private readonly opts: PumpOptions<T>) {}

  get active(): number {
    return this.inFlight;
  }

  start(): void {
    if (!this.loop) this.loop = this.run();
  }

  /** New work may be due: claim now instead of waiting for a timer. */
  wake(): void {
    this.woken = true;
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  /** Stops claiming; resolves when the loop has exited (in-flight handlers may still run, see drained()). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loop;
  }

  /** Resolves when no handler is running, or after `timeoutMs`; true when drained. */
  drained(timeoutMs: number): Promise<boolean> {
    if (this.inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.idle.delete(done);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.idle.delete(done);
        resolve(false);
      }, timeoutMs);
      this.idle.add(done);
    });
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken || this.stopping) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = undefined;
        resolve();
      }, Math.max(0, ms));
      this.wakeUp = () => {
        clearTimeout(timer);
        this.woken = false;
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    const maxSleep = this.opts.maxSleepMs ?? 5000;
    while (!this.stopping) {
      try {
        const slots = this.opts.concurrency();
        const free = slots - this.inFlight;
        if (free <= 0) {
          await this.sleep(maxSleep); // a finishing handler wakes us
          continue;
        }
        const gathering = GATHER_MS - (performance.now() - this.lastClaimAt);
        if (this.inFlight > 0 && free < Math.max(1, Math.floor(slots * GATHER_SHARE)) && gathering > 0) {
          // More calls end meanwhile (each wakes us); claim for all of them at once.
          this.woken = false;
          await this.sleep(gathering);
          continue;
        }
        const wait = this.opts.gate?.() ?? 0;
        if (wait > 0) {
          await this.sleep(Math.min(wait, maxSleep));
          continue;
        }
        this.woken = false;
        this.lastClaimAt = performance.now();
        const items = await this.opts.claim(free);
        if (this.stopping && items.length === 0) break;
        for (const item of items) this.dispatch(item);
        if (items.length === 0) {
          const due = await this.opts.nextDueAt();
          const until = due === null ? maxSleep : due - this.opts.now();
          await this.sleep(Math.min(maxSleep, Math.max(until, 5)));
        }
      } catch (err) {
        this.opts.onError(err, `${this.opts.name}: claim`);
        await this.sleep(1000);
      }
    }
  }

  private dispatch(item: T): void {
    this.inFlight++;
    this.opts
      .handle(item)
      .catch((err: unknown) => this.opts.onError(err, `${this.opts.name}: handle`))
      .finally(() => {
        this.inFlight--;
        if (this.inFlight === 0) for (const f of [...this.idle]) f();
        this.wake();
      });
  }
}
