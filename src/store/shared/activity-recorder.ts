import type { Logger } from '../../log';
import type { ActivityCount, ActivitySeries } from '../store';

export const MINUTE_MS = 60_000;

export function minuteOf(at: number): number {
  return Math.floor(at / MINUTE_MS) * MINUTE_MS;
}

export interface ActivityRecorder {
  /** Counts one more (or `n` more) of `series`/`key` in the minute of `at`. Written soon, never awaited by the caller. */
  count(at: number, series: ActivitySeries, key: string, n?: number): void;
  /** Resolves once everything counted so far is written (or failed and was logged). */
  flush(): Promise<void>;
}

/**
 * The /admin chart counts are a side line of the ack and the worker: counted in memory,
 * merged, and written by ONE upsert at a time (`write`), after the commit they belong to
 * and outside its transaction, so no webhook waits for them. Whatever is counted while a
 * write is under way goes into the next one: under load one upsert carries many commits.
 * A write that fails loses those counts (a warning says how many): they are a chart, not
 * a record, and retrying them would let them pile up while the database is away.
 */
export function createActivityRecorder(write: (rows: ActivityCount[]) => Promise<void>, log: Logger): ActivityRecorder {
  let pending = new Map<string, ActivityCount>();
  let running: Promise<void> | undefined;

  async function drain(): Promise<void> {
    while (pending.size > 0) {
      const rows = [...pending.values()];
      pending = new Map();
      try {
        await write(rows);
      } catch (err) {
        const lost = rows.reduce((sum, r) => sum + r.count, 0);
        log.warn('activity counts for /admin charts not written', { lost, error: err instanceof Error ? err.message : String(err) });
      }
    }
  }

  function start(): Promise<void> {
    running ??= new Promise<void>((resolve) => setImmediate(resolve)).then(drain).finally(() => {
      running = undefined;
      if (pending.size > 0) void start(); // counted after the loop had looked
    });
    return running;
  }

  return {
    count(at, series, key, n = 1) {
      const minute = minuteOf(at);
      const id = `${minute}\u0000${series}\u0000${key}`;
      const row = pending.get(id);
      if (row) row.count += n;
      else pending.set(id, { minute, series, key, count: n });
      void start();
    },
    async flush() {
      while (running || pending.size > 0) await start();
    },
  };
}
