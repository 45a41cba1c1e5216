import type { ActivityCount, ActivitySeries } from '../store';
import { num, str } from '../shared/rows';
import { ACTIVITY_SINCE, ADD_TO_ACTIVITY, PRUNE_ACTIVITY } from '../sql/activity';
import type { SqliteDb } from './db';

/** $1: the rows as one JSON array of [minute, series, key, count], so one prepared statement takes any number. */
const UPSERT_ACTIVITY = `
  INSERT INTO activity_minutes (minute, series, key, count)
  SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]')
  FROM json_each($1) WHERE true
  ${ADD_TO_ACTIVITY}`;

/** Without an fsync (relaxed): a chart count a power cut undoes is not worth blocking the event loop for. */
export function recordActivitySqlite(db: SqliteDb, rows: readonly ActivityCount[]): void {
  const json = JSON.stringify(rows.map((r) => [r.minute, r.series, r.key, r.count]));
  db.relaxed(() => db.tx(() => db.run(UPSERT_ACTIVITY, [json])));
}

export function activitySqlite(db: SqliteDb, since: number): ActivityCount[] {
  return db.all(ACTIVITY_SINCE, [since]).map((r) => ({
    minute: num(r.minute, 'minute'),
    series: str(r.series, 'series') as ActivitySeries,
    key: str(r.key, 'key'),
    count: num(r.count, 'count'),
  }));
}

export function pruneActivitySqlite(db: SqliteDb, before: number): number {
  return db.relaxed(() => db.tx(() => db.run(PRUNE_ACTIVITY, [before])));
}
