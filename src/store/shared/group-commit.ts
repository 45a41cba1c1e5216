/**
 * Group commit: writes that arrive in the same tick, or while a commit is in
 * progress, go to the database in ONE transaction. Each caller still gets its
 * own result. The expensive part of a durable commit is the flush to disk (or
 * the round trip to PostgreSQL), so sharing it keeps throughput up when many
 * webhooks arrive at once.
 */
/**
 * The `gatherMs` of the worker's settles, on both engines: calls end one by one, and each
 * commit costs a transaction (on SQLite its pages appended to the WAL, ~0.1 ms of the
 * event loop even before the fsync; on PostgreSQL a round trip). The call's slot is
 * held that much longer: 2 ms beside a tag call's tens.
 */
export const SETTLE_GATHER_MS = 2;

export interface GroupCommitOptions<I, O> {
  /** Writes every item in one transaction; returns one result per item, in order. */
  commit(items: I[]): Promise<O[]>;
  /** At most this many items per transaction, so transactions stay short. */
  maxBatch: number;
  /**
   * When a shared commit fails, whether to try the items one by one so that one
   * bad item does not fail its neighbours. Not worth it when the database is
   * unreachable: every item would fail again.
   */
  retryAlone(err: unknown): boolean;
  /**
   * How long the first item of a batch may wait for others before the commit starts
   * (default 0: the next turn of the event loop). For writes nobody answers a request
   * with — a worker's settles — a few milliseconds turn one transaction per call that
   * ends into one for all the calls that end within them.
   */
  gatherMs?: number;
}

export interface GroupCommit<I, O> {
  submit(item: I): Promise<O>;
  /** Resolves once nothing is queued or being written. */
  drain(): Promise<void>;
}

interface Waiting<I, O> {
  item: I;
  resolve(value: O): void;
  reject(err: unknown): void;
}

export function createGroupCommit<I, O>(opts: GroupCommitOptions<I, O>): GroupCommit<I, O> {
  let queue: Waiting<I, O>[] = [];
  let scheduled = false;
  let running: Promise<void> | undefined;

  async function commitAll(batch: Waiting<I, O>[]): Promise<void> {
    let results: O[];
    try {
      results = await opts.commit(batch.map((w) => w.item));
    } catch (err) {
      if (batch.length === 1 || !opts.retryAlone(err)) {
        for (const w of batch) w.reject(err);
        return;
      }
      for (const w of batch) await commitAll([w]);
      return;
    }
    if (results.length !== batch.length) {
      const err = new Error(`group commit returned ${results.length} results for ${batch.length} items`);
      for (const w of batch) w.reject(err);
      return;
    }
    batch.forEach((w, i) => w.resolve(results[i] as O));
  }

  async function run(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.slice(0, opts.maxBatch);
      queue = queue.slice(batch.length);
      await commitAll(batch);
    }
  }

  function start(): void {
    scheduled = false;
    if (running) return; // the running loop picks up what was queued meanwhile
    running = run().finally(() => {
      running = undefined;
      if (queue.length > 0) start();
    });
  }

  return {
    submit(item) {
      return new Promise<O>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        if (!scheduled && !running) {
          scheduled = true;
          // setImmediate, not a microtask: every call made while handling this
          // round of I/O (e.g. several webhook requests parsed together) joins the batch.
          if (opts.gatherMs) setTimeout(start, opts.gatherMs);
          else setImmediate(start);
        }
      });
    },
    async drain() {
      while (running || scheduled || queue.length > 0) {
        if (running) await running;
        else await new Promise<void>((r) => setImmediate(r));
      }
    },
  };
}
