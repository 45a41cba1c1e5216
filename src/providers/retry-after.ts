/**
 * Parses an HTTP `Retry-After` value (RFC 9110 §10.2.3) into milliseconds from `now`:
 * either a number of seconds, or an HTTP-date in any of the three forms of RFC 9110
 * §5.6.7 — `Sun, 06 Nov 1994 08:49:37 GMT`, `Sunday, 06-Nov-94 08:49:37 GMT` and
 * `Sun Nov  6 08:49:37 1994` — always in GMT (Date.parse would read the last one in the
 * local time zone, and accepts much that is no date at all). A date in the past gives 0;
 * a missing or unreadable value gives undefined.
 *
 * The value can be anything the other side sends (`3000000000` seconds is 95 years):
 * whoever applies it caps it at RETRY_MAX_MS (rate-gate.ts, backoff.ts).
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const raw = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!raw) return undefined;
  if (/^\d+(\.\d+)?$/.test(raw)) return Math.min(Math.round(Number(raw) * 1000), Number.MAX_SAFE_INTEGER);
  const at = parseHttpDate(raw, now);
  return at === undefined ? undefined : Math.max(0, at - now);
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
/** `Sun, 06 Nov 1994 08:49:37 GMT` (IMF-fixdate, what senders must use). */
const IMF_FIXDATE = new RegExp(`^[a-z]{3}, (\\d{2}) ([a-z]{3}) (\\d{4}) ${TIME} GMT$`, 'i');
/** `Sunday, 06-Nov-94 08:49:37 GMT` (obsolete RFC 850 form). */
const RFC850 = new RegExp(`^[a-z]{6,9}, (\\d{2})-([a-z]{3})-(\\d{2}) ${TIME} GMT$`, 'i');
/** `Sun Nov  6 08:49:37 1994` (obsolete asctime form; the day is space-padded). */
const ASCTIME = new RegExp(`^[a-z]{3} ([a-z]{3}) ([ \\d]\\d) ${TIME} (\\d{4})$`, 'i');

/** Epoch milliseconds of an HTTP-date, or undefined when `text` is not one. */
export function parseHttpDate(text: string, now: number): number | undefined {
  let m = IMF_FIXDATE.exec(text);
  if (m) return utc(Number(m[3]), m[2]!, Number(m[1]), m.slice(4, 7));
  m = RFC850.exec(text);
  if (m) return utc(fullYear(Number(m[3]), now), m[2]!, Number(m[1]), m.slice(4, 7));
  m = ASCTIME.exec(text);
  if (m) return utc(Number(m[6]), m[1]!, Number(m[2]!.trim()), m.slice(3, 6));
  return undefined;
}

/** RFC 9110: a two-digit year more than 50 years in the future is the most recent past year with those digits. */
function fullYear(twoDigits: number, now: number): number {
  const year = 2000 + twoDigits;
  return year > new Date(now).getUTCFullYear() + 50 ? year - 100 : year;
}

function utc(year: number, monthName: string, day: number, hms: (string | undefined)[]): number | undefined {
  const month = MONTHS.indexOf(monthName.toLowerCase());
  const [h, mi, s] = hms.map(Number) as [number, number, number];
  if (month < 0 || day < 1 || day > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  const at = Date.UTC(year, month, day, h, mi, Math.min(s, 59));
  // 31 Feb and the like: Date.UTC rolls them over instead of refusing.
  return new Date(at).getUTCDate() === day ? at : undefined;
}
