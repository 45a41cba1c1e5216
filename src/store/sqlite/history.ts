import type { HistoryEvent, UserHistory } from '../store';
import { str, toExpiringTag, toHistoryCall, toHistoryEvent, toUserHistory } from '../shared/rows';
import {
  GET_SETTING,
  PRUNE_CHUNK,
  PRUNE_HISTORY_CALLS,
  PRUNE_HISTORY_EVENTS,
  PRUNE_SEEN_EVENTS,
  RECENT_EVENTS,
  SET_SETTING,
  USER_CALLS,
  USER_EVENTS,
  USER_EXPIRING,
  USER_TOTALS,
} from '../sql/history';
import type { SqliteDb } from './db';

export function userHistorySqlite(db: SqliteDb, userId: string, limit: number): UserHistory {
  const lists = {
    events: db.all(USER_EVENTS, [userId, limit]).map(toHistoryEvent).reverse(),
    calls: db.all(USER_CALLS, [userId, limit]).map(toHistoryCall).reverse(),
    expiring: db.all(USER_EXPIRING, [userId, limit]).map(toExpiringTag),
  };
  return toUserHistory(userId, lists, db.all(USER_TOTALS, [userId])[0]);
}

export function recentEventsSqlite(db: SqliteDb, limit: number): HistoryEvent[] {
  return db.all(RECENT_EVENTS, [limit]).map(toHistoryEvent);
}

/** One short transaction per chunk, so the webhook path never waits long for the write lock. */
function pruneChunks(db: SqliteDb, sql: string, before: number): number {
  let total = 0;
  for (;;) {
    const n = db.tx(() => db.run(sql, [before]));
    total += n;
    if (n < PRUNE_CHUNK) return total;
  }
}

export function pruneSqlite(db: SqliteDb, o: { historyBefore: number; seenBefore: number }): { history: number; seen: number } {
  const history = pruneChunks(db, PRUNE_HISTORY_EVENTS, o.historyBefore) + pruneChunks(db, PRUNE_HISTORY_CALLS, o.historyBefore);
  return { history, seen: pruneChunks(db, PRUNE_SEEN_EVENTS, o.seenBefore) };
}

export function getSettingSqlite(db: SqliteDb, key: string): string | undefined {
  const [row] = db.all(GET_SETTING, [key]);
  return row ? str(row.value, 'value') : undefined;
}

export function setSettingSqlite(db: SqliteDb, key: string, value: string): void {
  db.run(SET_SETTING, [key, value, Date.now()]);
}
