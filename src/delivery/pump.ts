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

export class Pump<T> {
  private inFlight = 0;
  private stopping = false;
  private wakeUp: (() => void) | undefined;
  private woken = false;
  private loop: Promise<void> | undefined;
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
        const free = this.opts.concurrency() - this.inFlight;
        if (free <= 0) {
          await this.sleep(maxSleep); // a finishing handler wakes us
          continue;
        }
        const wait = this.opts.gate?.() ?? 0;
        if (wait > 0) {
          await this.sleep(Math.min(wait, maxSleep));
          continue;
        }
        this.woken = false;
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
