/**
 * Parses an HTTP `Retry-After` value, which is either a number of seconds or an
 * HTTP date (RFC 9110 §10.2.3), into milliseconds from `now`. Returns undefined
 * for a missing or unreadable value; a date in the past gives 0.
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const raw = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!raw) return undefined;
  if (/^\d+(\.\d+)?$/.test(raw)) return Math.round(Number(raw) * 1000);
  // Only a date-looking value is parsed as a date: Date.parse accepts too much ("1 2", "-5").
  if (!/[a-z]{3}/i.test(raw)) return undefined;
  const at = Date.parse(raw);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
