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

/** How long counts gather in memory before they are written (unless read or closed first). */
export const ACTIVITY_FLUSH_MS = 1000;

/**
 * The /admin chart counts are a side line of the ack and the worker: counted in memory,
 * merged, and written by ONE upsert (`write`) at most once a second, outside any
 * webhook's transaction, so no webhook waits for them (a SQLite upsert costs ~0.3 ms of
 * event loop; once per commit that would be a tenth of a busy ack path, once a second it
 * is nothing). A read of the counts (`flush`) writes what is gathered first. A write that
 * fails loses those counts (a warning says how many): they are a chart, not a record, and
 * retrying them would let them pile up while the database is away; a crash loses at most
 * the last second's.
 */
export function createActivityRecorder(write: (rows: ActivityCount[]) => Promise<void>, log: Logger, flushMs = ACTIVITY_FLUSH_MS): ActivityRecorder {
  let pending = new Map<string, ActivityCount>();
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;

  /** One write of what is gathered now; what is counted meanwhile waits for the next. */
  async function writeGathered(): Promise<void> {
    if (pending.size === 0) return;
    const rows = [...pending.values()];
    pending = new Map();
    try {
      await write(rows);
    } catch (err) {
      const lost = rows.reduce((sum, r) => sum + r.count, 0);
      log.warn('activity counts for /admin charts not written', { lost, error: err instanceof Error ? err.message : String(err) });
    }
  }

  function start(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    running ??= writeGathered().finally(() => {
      running = undefined;
      schedule(); // what was counted during the write
    });
    return running;
  }

  function schedule(): void {
    if (timer || running || pending.size === 0) return;
    timer = setTimeout(() => void start(), flushMs);
    timer.unref(); // a process may exit with counts gathered (close() flushes them)
  }

  return {
    count(at, series, key, n = 1) {
      const minute = minuteOf(at);
      const id = `${minute}\u0000${series}\u0000${key}`;
      const row = pending.get(id);
      if (row) row.count += n;
      else pending.set(id, { minute, series, key, count: n });
      schedule();
    },
    async flush() {
      while (running || pending.size > 0) await start();
    },
  };
}
