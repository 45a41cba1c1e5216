import { offsetAt } from './schedule';

const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * An ISO 8601 date-time as milliseconds since the epoch. With an offset
 * (`Z`, `+08:00`, or ISO 8601's other forms `+0800` and `+08`) it is exact; without one it is local time in
 * `defaultTimezone`, or, when that is undefined, refused.
 * undefined when badly formed.
 */
export function parseInstant(s: string, defaultTimezone: string | undefined): number | undefined {
  const m = ISO.exec(s.trim());
  if (!m) return undefined;
  const [year, month, day, hour, minute] = [1, 2, 3, 4, 5].map((i) => Number(m[i]));
  const second = Number(m[6] ?? 0);
  const ms = Math.floor(Number(`0.${m[7] ?? '0'}`) * 1000);
  if (month! < 1 || month! > 12 || day! < 1 || hour! > 23 || minute! > 59 || second > 59) return undefined;
  const d = new Date(0);
  d.setUTCFullYear(year!, month! - 1, day!);
  d.setUTCHours(hour!, minute!, second, ms);
  if (d.getUTCMonth() !== month! - 1 || d.getUTCDate() !== day!) return undefined;
  const local = d.getTime();
  const offset = m[8];
  if (offset === undefined) {
    if (defaultTimezone === undefined) return undefined;
    // The offset in force at that wall-clock time: guess from the local reading taken as UTC,
    // then correct once (enough everywhere except inside a daylight-saving gap).
    const guess = local - offsetAt(defaultTimezone, local);
    return local - offsetAt(defaultTimezone, guess);
  }
  if (offset.toUpperCase() === 'Z') return local;
  const sign = offset.startsWith('-') ? -1 : 1;
  const digits = offset.slice(1).replace(':', '');
  const [oh, om] = [Number(digits.slice(0, 2)), Number(digits.slice(2) || 0)];
  if (oh! > 23 || om! > 59) return undefined;
  return local - sign * (oh! * 60 + om!) * 60_000;
}

/** True when `s` carries its own offset (what `autotag test --at` requires). */
export function hasOffset(s: string): boolean {
  const m = ISO.exec(s.trim());
  return m !== null && m[8] !== undefined;
}
