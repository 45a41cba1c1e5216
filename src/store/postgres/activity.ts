import type { ActivityCount, ActivitySeries } from '../store';
import { num, str } from '../shared/rows';
import { ACTIVITY_SINCE, ADD_TO_ACTIVITY, PRUNE_ACTIVITY } from '../sql/activity';
import type { Query } from './db';

const UPSERT_ACTIVITY = `
  INSERT INTO activity_minutes (minute, series, key, count)
  SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[])
  ${ADD_TO_ACTIVITY}`;

/** In key order, so two instances adding to the same minutes lock its rows in the same order (no deadlock). */
export async function recordActivityPostgres(q: Query, rows: readonly ActivityCount[]): Promise<void> {
  const sorted = [...rows].sort((a, b) => a.minute - b.minute || (a.series < b.series ? -1 : a.series > b.series ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  await q(UPSERT_ACTIVITY, [sorted.map((r) => r.minute), sorted.map((r) => r.series), sorted.map((r) => r.key), sorted.map((r) => r.count)]);
}

export async function activityPostgres(q: Query, since: number): Promise<ActivityCount[]> {
  return (await q(ACTIVITY_SINCE, [since])).rows.map((r) => ({
    minute: num(r.minute, 'minute'),
    series: str(r.series, 'series') as ActivitySeries,
    key: str(r.key, 'key'),
    count: num(r.count, 'count'),
  }));
}

export async function pruneActivityPostgres(q: Query, before: number): Promise<number> {
  return (await q(PRUNE_ACTIVITY, [before])).rowCount;
}
