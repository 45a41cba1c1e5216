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
import type { Query } from './db';

export async function userHistoryPostgres(q: Query, userId: string, limit: number): Promise<UserHistory> {
  const [events, calls, expiring, totals] = await Promise.all([
    q(USER_EVENTS, [userId, limit]),
    q(USER_CALLS, [userId, limit]),
    q(USER_EXPIRING, [userId, limit]),
    q(USER_TOTALS, [userId]),
  ]);
  const lists = {
    events: events.rows.map(toHistoryEvent).reverse(),
    calls: calls.rows.map(toHistoryCall).reverse(),
    expiring: expiring.rows.map(toExpiringTag),
  };
  return toUserHistory(userId, lists, totals.rows[0]);
}

export async function recentEventsPostgres(q: Query, limit: number): Promise<HistoryEvent[]> {
  return (await q(RECENT_EVENTS, [limit])).rows.map(toHistoryEvent);
}

/** One statement (its own transaction) per chunk, so no long-held locks. */
async function pruneChunks(q: Query, sql: string, before: number): Promise<number> {
  let total = 0;
  for (;;) {
    const n = (await q(sql, [before])).rowCount;
    total += n;
    if (n < PRUNE_CHUNK) return total;
  }
}

export async function prunePostgres(q: Query, o: { historyBefore: number; seenBefore: number }): Promise<{ history: number; seen: number }> {
  const history = (await pruneChunks(q, PRUNE_HISTORY_EVENTS, o.historyBefore)) + (await pruneChunks(q, PRUNE_HISTORY_CALLS, o.historyBefore));
  return { history, seen: await pruneChunks(q, PRUNE_SEEN_EVENTS, o.seenBefore) };
}

export async function getSettingPostgres(q: Query, key: string): Promise<string | undefined> {
  const [row] = (await q(GET_SETTING, [key])).rows;
  return row ? str(row.value, 'value') : undefined;
}

export async function setSettingPostgres(q: Query, key: string, value: string): Promise<void> {
  await q(SET_SETTING, [key, value, Date.now()]);
}
