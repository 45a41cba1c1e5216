import type { Logger } from '../../log';
import type { WorkKind } from '../store';

/**
 * At most one NOTIFY per kind of work in this long from one instance (see Announcer).
 * Another instance hears of new work at most this much later than it would from a
 * NOTIFY per commit; it is a wake-up only, the work itself is found by its claims.
 */
export const ANNOUNCE_WINDOW_MS = 50;

/** Every kind of work an accept commit may queue, each paced on its own. */
export const WORK_KINDS: readonly WorkKind[] = ['operations', 'forwards'];

export type Announcements = Record<WorkKind, boolean>;

/**
 * Paces the NOTIFYs that tell other instances of accepted work. Every instance LISTENs,
 * this one too, so each NOTIFY wakes a database process per listener and sends each a
 * message; one per accept commit was hundreds a second under load (at 1,000 webhooks a
 * second on PostgreSQL, bench/ack's open loop). Now a commit sends its NOTIFY inside its
 * own transaction only when none of that kind went out within the window; work committed
 * within the window is announced once, by a NOTIFY sent when the window ends (after the
 * commits it covers: a wake-up never arrives before the work it announces). The instance
 * that committed wakes its own workers in-process, as before, at once.
 */
export interface Announcer {
  /** Before a commit: which kinds it may announce itself (NOTIFY inside its transaction). */
  inline(): Announcements;
  /**
   * After the commit: the kinds of work it queued, and what `inline()` allowed it. A kind
   * queued but not announced by the commit is announced when its window ends.
   */
  committed(queued: Announcements, inline: Announcements): void;
  /** Sends every announcement still waiting for its window, now (before the store closes). */
  flush(): Promise<void>;
}

export interface AnnouncerOptions {
  /** One NOTIFY of `kind`, outside any transaction. */
  send(kind: WorkKind): Promise<void>;
  log: Logger;
  windowMs?: number;
  now?: () => number;
}

/** One kind's pacing: when its last NOTIFY went out, the one waiting for the window's end, the one being sent. */
interface KindState {
  lastSent: number;
  timer: NodeJS.Timeout | undefined;
  sending: Promise<void> | undefined;
}

export function createAnnouncer(o: AnnouncerOptions): Announcer {
  const windowMs = o.windowMs ?? ANNOUNCE_WINDOW_MS;
  const now = o.now ?? (() => performance.now());
  const fresh = (): KindState => ({ lastSent: -Infinity, timer: undefined, sending: undefined });
  const state: Record<WorkKind, KindState> = { operations: fresh(), forwards: fresh() };

  function send(kind: WorkKind): Promise<void> {
    const s = state[kind];
    s.timer = undefined;
    s.lastSent = now();
    const sending = o
      .send(kind)
      .catch((err: unknown) => {
        // The others still find the work: at their next look (a timer) or the next NOTIFY.
        o.log.warn('announcing new work to the other instances failed', { kind, error: err instanceof Error ? err.message : String(err) });
      })
      .finally(() => {
        if (s.sending === sending) s.sending = undefined;
      });
    s.sending = sending;
    return sending;
  }

  function later(kind: WorkKind): void {
    const s = state[kind];
    if (s.timer) return; // the one already due covers this commit too: it is sent after it
    s.timer = setTimeout(() => void send(kind), Math.max(0, s.lastSent + windowMs - now()));
    // A waiting announcement never keeps the process alive: close() sends it (flush).
    s.timer.unref();
  }

  return {
    inline() {
      const t = now();
      const may = (k: WorkKind) => state[k].timer === undefined && t - state[k].lastSent >= windowMs;
      return { operations: may('operations'), forwards: may('forwards') };
    },
    committed(queued, inline) {
      for (const kind of WORK_KINDS) {
        if (!queued[kind]) continue;
        if (inline[kind]) state[kind].lastSent = now();
        else later(kind);
      }
    },
    async flush() {
      const waits: Promise<void>[] = [];
      for (const kind of WORK_KINDS) {
        const s = state[kind];
        if (s.timer) {
          clearTimeout(s.timer);
          waits.push(send(kind));
        } else if (s.sending) waits.push(s.sending);
      }
      await Promise.all(waits);
    },
  };
}

/** The kinds of work a commit queued, from its results. */
export function queuedKinds(results: readonly { operationsQueued: number; forwardsQueued: number }[]): Announcements {
  return { operations: results.some((r) => r.operationsQueued > 0), forwards: results.some((r) => r.forwardsQueued > 0) };
}
