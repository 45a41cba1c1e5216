import { DAYS, type Day, type ScheduleDefinition } from './definitions';

/**
 * Schedules compare the event's wall-clock time in the schedule's timezone.
 * Local times are handled as "local milliseconds": the wall-clock reading
 * written as if it were UTC (Date.UTC of its fields), so comparing them needs
 * no timezone arithmetic and daylight-saving days need no special case.
 */

const MS_PER_DAY = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** One formatter per timezone for the life of the process: building one costs far more than using it. */
function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

// Names only: Intl on newer Node also takes offsets such as "+08:00", which the
// contract does not promise and Node 20 rejects, so they are refused everywhere.
const IANA_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

export function isValidTimezone(name: string): boolean {
  if (!IANA_NAME.test(name)) return false;
  try {
    formatterFor(name);
    return true;
  } catch {
    return false;
  }
}

export function knownTimezones(): string[] {
  return Intl.supportedValuesOf('timeZone');
}

/** Wall-clock offset (local − UTC, in ms) of `timeZone` at the instant `utcMs`. */
export function offsetAt(timeZone: string, utcMs: number): number {
  const wholeSecond = Math.floor(utcMs / 1000) * 1000;
  let year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0, bc = false;
  for (const part of formatterFor(timeZone).formatToParts(wholeSecond)) {
    switch (part.type) {
      case 'year': year = Number(part.value); break;
      case 'month': month = Number(part.value); break;
      case 'day': day = Number(part.value); break;
      case 'hour': hour = Number(part.value); break;
      case 'minute': minute = Number(part.value); break;
      case 'second': second = Number(part.value); break;
      case 'era': bc = part.value === 'BC'; break;
    }
  }
  const local = new Date(0);
  local.setUTCFullYear(bc ? 1 - year : year, month - 1, day);
  local.setUTCHours(hour, minute, second, 0);
  return local.getTime() - wholeSecond;
}

/**
 * Local time of one timezone, remembering the offset of the last minute asked
 * for: offsets change only at transitions, and consecutive events are close in
 * time, so most evaluations never reach Intl.
 */
export class ZoneClock {
  private minute = NaN;
  private offset = 0;
  constructor(readonly timeZone: string) {}

  localMs(utcMs: number): number {
    const minute = Math.floor(utcMs / 60_000);
    if (minute !== this.minute) {
      this.offset = offsetAt(this.timeZone, minute * 60_000);
      this.minute = minute;
    }
    return utcMs + this.offset;
  }
}

const LOCAL_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?$/;

/**
 * The first and the last local millisecond a `from`/`until` value covers,
 * "inclusive to the precision written": a date covers its whole day, `…T23:59`
 * covers that minute's 60 seconds. undefined when badly formed.
 */
export function parseLocalTime(s: string): { first: number; last: number } | undefined {
  const m = LOCAL_TIME.exec(s);
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const hasTime = m[4] !== undefined;
  const hasSeconds = m[6] !== undefined;
  const [hour, minute, second] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  // setUTCFullYear rolls 2026-02-30 over into March; a rolled date was not a real one.
  if (d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return undefined;
  const first = d.getTime();
  const span = !hasTime ? MS_PER_DAY : !hasSeconds ? 60_000 : 1000;
  return { first, last: first + span - 1 };
}

const HOURS = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/;

/** `HH:MM-HH:MM` as milliseconds into the day, start inclusive, end exclusive; `24:00` may end a range. */
export function parseHours(s: string): { start: number; end: number } | undefined {
  const m = HOURS.exec(s.replace(/\s+/g, ''));
  if (!m) return undefined;
  const [h1, m1, h2, m2] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
  if (h1 > 23 || m1 > 59 || m2 > 59 || h2 > 24 || (h2 === 24 && m2 !== 0)) return undefined;
  const start = (h1 * 60 + m1) * 60_000;
  const end = (h2 * 60 + m2) * 60_000;
  if (start === end) return undefined;
  return { start, end };
}

export const DAY_NAMES: readonly Day[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** A schedule as numbers, checked against a local time without parsing or allocating. */
export interface CompiledSchedule {
  timeZone: string;
  first: number;
  last: number;
  /** Bit n set: day n (0 = Sunday, as Date.getUTCDay) allowed. */
  dayMask: number;
  /** Milliseconds into the local day; start === end means no hours restriction. */
  hoursStart: number;
  hoursEnd: number;
}

/** Throws on a malformed value; validation has already refused those. */
export function compileSchedule(s: ScheduleDefinition): CompiledSchedule {
  const from = s.from === undefined ? undefined : parseLocalTime(s.from);
  const until = s.until === undefined ? undefined : parseLocalTime(s.until);
  const hours = s.hours === undefined ? undefined : parseHours(s.hours);
  if ((s.from !== undefined && !from) || (s.until !== undefined && !until) || (s.hours !== undefined && !hours)) {
    throw new Error(`invalid schedule ${JSON.stringify(s)}`);
  }
  let dayMask = 0x7f;
  if (s.days) {
    dayMask = 0;
    for (const d of s.days) dayMask |= 1 << DAYS.indexOf(d);
  }
  return {
    timeZone: s.timezone,
    first: from ? from.first : -Infinity,
    last: until ? until.last : Infinity,
    dayMask,
    hoursStart: hours ? hours.start : 0,
    hoursEnd: hours ? hours.end : 0,
  };
}

export function scheduleHolds(s: CompiledSchedule, localMs: number): boolean {
  if (localMs < s.first || localMs > s.last) return false;
  const dayNumber = Math.floor(localMs / MS_PER_DAY);
  // 1970-01-01 was a Thursday (4).
  if ((s.dayMask & (1 << (((dayNumber + 4) % 7) + 7) % 7)) === 0) return false;
  if (s.hoursStart === s.hoursEnd) return true;
  const intoDay = localMs - dayNumber * MS_PER_DAY;
  return s.hoursStart < s.hoursEnd
    ? intoDay >= s.hoursStart && intoDay < s.hoursEnd
    : intoDay >= s.hoursStart || intoDay < s.hoursEnd;
}
