import type { StoreEngine } from '../shared/store-engine';
import { DELETE_ENDED_PAUSES, KEEP_PAUSE, PAUSES_AFTER, toPauses } from '../sql/pauses';
import type { SqliteDb } from './db';

type PauseMethods = Pick<StoreEngine, 'sharePause' | 'storedPauses'>;

/**
 * The account pauses of the SQLite store. One instance per file, so nobody else is told: the
 * pause is kept for the process that starts after this one (a crash, a deploy) while it lasts.
 * Without an fsync (relaxed): a process crash keeps the commit; a power cut that undoes it costs
 * at most one 429 more.
 */
export function pausesSqlite(db: SqliteDb): PauseMethods {
  return {
    sharePause: async (account, until, now) => {
      db.relaxed(() =>
        db.tx(() => {
          db.run(DELETE_ENDED_PAUSES, [now]);
          db.run(KEEP_PAUSE, [account, until]);
        }),
      );
    },
    storedPauses: async (now) => toPauses(db.all(PAUSES_AFTER, [now])),
  };
}
