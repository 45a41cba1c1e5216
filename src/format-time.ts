/*
 * Times and durations for people: shared by the CLI, the admin pages and the
 * workers' messages, so none of them imports another for it.
 */

/** A duration for people: "850 ms", "42 s", "17 min", "24.0 h", "3.5 d". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 172_800_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} d`;
}

/** An age for the queue views; `-` when there is nothing waiting. */
export function formatAge(ms: number | null): string {
  return ms === null ? '-' : formatDuration(ms);
}

/** ISO 8601 in UTC; a number no Date can hold (a platform may date an event anything) is shown as it is. */
export function isoTime(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? `${ms} ms since 1970` : d.toISOString();
}
