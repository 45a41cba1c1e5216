import { PLATFORMS } from '../chat-event';
import type { ActivityCount, ActivitySeries } from '../store/store';

/**
 * The store's per-minute activity cut into the bars of /admin's charts: the last 24
 * hours in hours, the last hour in minutes. The last bar ends with the current minute.
 */

const MINUTE_MS = 60_000;

export interface ChartWindow {
  id: '24h' | '1h';
  title: string;
  /** The first minute of the first bar. */
  start: number;
  bucketMs: number;
  buckets: number;
  /** How the start reads on the axis, e.g. `−24 h`. */
  startLabel: string;
}

export function chartWindows(now: number): ChartWindow[] {
  const end = Math.floor(now / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  return [
    { id: '24h', title: 'Last 24 hours', start: end - 24 * 3_600_000, bucketMs: 3_600_000, buckets: 24, startLabel: '−24 h' },
    { id: '1h', title: 'Last hour', start: end - 60 * MINUTE_MS, bucketMs: MINUTE_MS, buckets: 60, startLabel: '−60 min' },
  ];
}

/** The earliest minute any window needs. */
export function activitySince(now: number): number {
  return Math.min(...chartWindows(now).map((w) => w.start));
}

/** One stacked bar chart: per key, one count per bar. */
export interface StackedSeries {
  /** Keys in the order they stack (bottom first) and are listed. */
  keys: string[];
  /** keys[i] → counts per bar. */
  values: Map<string, number[]>;
  total: number;
  totals: Map<string, number>;
}

export interface WindowActivity {
  window: ChartWindow;
  webhooks: StackedSeries;
  calls: StackedSeries;
  throttled: StackedSeries;
  /** Most matched first (ties by id), at most TOP_RULES. */
  topRules: { rule: string; count: number }[];
  /** How many rules matched at all in the window. */
  rulesMatched: number;
  /** Matches of every rule in the window. */
  ruleMatches: number;
}

export const TOP_RULES = 8;

/** The three outcomes, in stacking order, with the words the page uses. */
export const CALL_OUTCOMES = [
  { key: 'applied', label: 'applied' },
  { key: 'retry', label: 'retried' },
  { key: 'dead', label: 'dead' },
] as const;

function stacked(rows: readonly ActivityCount[], w: ChartWindow, series: ActivitySeries, order: readonly string[]): StackedSeries {
  const values = new Map<string, number[]>();
  const totals = new Map<string, number>();
  let total = 0;
  for (const r of rows) {
    if (r.series !== series || r.minute < w.start) continue;
    const bar = Math.floor((r.minute - w.start) / w.bucketMs);
    if (bar >= w.buckets) continue;
    let counts = values.get(r.key);
    if (!counts) values.set(r.key, (counts = new Array<number>(w.buckets).fill(0)));
    counts[bar] = (counts[bar] ?? 0) + r.count;
    totals.set(r.key, (totals.get(r.key) ?? 0) + r.count);
    total += r.count;
  }
  // Known keys in their order (always listed, even at 0), then any others by name.
  const keys = [...order, ...[...values.keys()].filter((k) => !order.includes(k)).sort()];
  for (const k of keys) {
    if (!values.has(k)) values.set(k, new Array<number>(w.buckets).fill(0));
    if (!totals.has(k)) totals.set(k, 0);
  }
  return { keys, values, total, totals };
}

export function windowActivity(rows: readonly ActivityCount[], w: ChartWindow): WindowActivity {
  const rules = new Map<string, number>();
  for (const r of rows) {
    if (r.series === 'rule' && r.minute >= w.start && r.minute < w.start + w.buckets * w.bucketMs) rules.set(r.key, (rules.get(r.key) ?? 0) + r.count);
  }
  const ranked = [...rules.entries()].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1));
  return {
    window: w,
    webhooks: byPlatformOrder(stacked(rows, w, 'webhook', [])),
    calls: stacked(rows, w, 'call', CALL_OUTCOMES.map((o) => o.key)),
    throttled: stacked(rows, w, 'throttled', []),
    topRules: ranked.slice(0, TOP_RULES).map(([rule, count]) => ({ rule, count })),
    rulesMatched: ranked.length,
    ruleMatches: ranked.reduce((sum, [, n]) => sum + n, 0),
  };
}

function byPlatformOrder(s: StackedSeries): StackedSeries {
  return { ...s, keys: [...s.keys].sort((a, b) => platformColour(a) - platformColour(b) || (a < b ? -1 : 1)) };
}

/** A platform's place in the platform list picks its colour, so no platform is named here. */
export function platformColour(platform: string): number {
  const i = (PLATFORMS as readonly string[]).indexOf(platform);
  return i < 0 ? PLATFORMS.length : i;
}

/** The charts' totals as /status.json gives them: per window, each count by key. */
export function activitySummary(windows: readonly WindowActivity[]): Record<string, unknown> {
  const byKey = (s: StackedSeries) => Object.fromEntries(s.keys.map((k) => [k, s.totals.get(k) ?? 0]));
  return Object.fromEntries(
    windows.map((a) => [
      a.window.id,
      {
        from: new Date(a.window.start).toISOString(),
        webhooks: byKey(a.webhooks),
        calls: byKey(a.calls),
        throttled: byKey(a.throttled),
        topRules: a.topRules,
        ruleMatches: a.ruleMatches,
      },
    ]),
  );
}
