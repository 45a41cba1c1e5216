import { z } from 'zod';

/*
 * How one environment variable is read. Config, the endpoint list and each provider
 * descriptor declare their variables with these, so every variable is read the same
 * way and a bad value is reported under its own name.
 */

/** Unset or blank: undefined; otherwise trimmed. */
export const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/**
 * A whole number, or undefined when unset: for variables whose default depends on another (config-dependent.ts).
 * `max`: the largest value allowed (PORT's 65535); the message then gives the range.
 * `hint`: what to do, appended to the message.
 */
export const optionalInt = (min = 0, { max, hint, overMax }: IntLimits = {}) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return undefined;
      // Digits only: Number() would also take 0x…, 0b…, 0o… and 1e4.
      const n = /^\d+$/.test(v.trim()) ? Number(v) : NaN;
      // Without a `max`, still no more than a double holds exactly (30 digits would round).
      const limit = max ?? Number.MAX_SAFE_INTEGER;
      if (!Number.isInteger(n) || n < min || n > limit) {
        const exceeded = n > limit;
        // A bound that only a mistake reaches (no default, `overMax`) is named when it is passed.
        const range = exceeded || (max !== undefined && overMax === undefined) ? `from ${min} to ${limit}` : `≥ ${min}`;
        const why = exceeded && overMax !== undefined ? overMax : hint;
        ctx.addIssue({ code: 'custom', message: `must be a whole number ${range}, got ${JSON.stringify(v)}${why ? `; ${why}` : ''}` });
        return z.NEVER;
      }
      return n;
    });

export interface IntLimits {
  max?: number;
  hint?: string;
  /** Said (instead of `hint`) only of a value above `max`, and the range is given only then. */
  overMax?: string;
}

export const int = (def: number, min = 0, limits: IntLimits = {}) => optionalInt(min, limits).transform((n) => n ?? def);

/** The longest delay a Node.js timer takes (2^31 − 1 ms); a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;

/** Limits of a variable that sets a timer's delay. */
export const timerLimits: IntLimits = { max: MAX_TIMER_MS, overMax: 'the longest delay a timer takes (about 24.8 days)' };

/** Comma-separated http(s) URLs; unset: none. */
export const urlList = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v.trim() === '') return [] as string[];
    const urls = v.split(',').map((s) => s.trim()).filter(Boolean);
    for (const u of urls) {
      if (!/^https?:\/\//i.test(u) || !URL.canParse(u)) {
        ctx.addIssue({ code: 'custom', message: `${JSON.stringify(u)} is not an http(s) URL` });
        return z.NEVER;
      }
    }
    return urls;
  });

/** An http(s) base URL without trailing slashes; unset: `def`. */
export const baseUrl = (def: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const s = v === undefined || v.trim() === '' ? def : v.trim();
      const problem = baseUrlProblem(s);
      if (problem !== undefined) {
        ctx.addIssue({ code: 'custom', message: problem });
        return z.NEVER;
      }
      return s.replace(/\/+$/, '');
    });

/**
 * Why `s` cannot be a tag API's base URL, or undefined when it can. Request paths are appended
 * to it (`…/api` + `/openapi/token`), so a query or a fragment would swallow them: every call
 * would go to the base itself and meet a 404.
 */
export function baseUrlProblem(s: string): string | undefined {
  if (!/^https?:\/\//i.test(s) || !URL.canParse(s)) return `${JSON.stringify(s)} is not an http(s) URL`;
  if (/[?#]/.test(s)) return `${JSON.stringify(s)}: a base URL cannot have a query (?…) or a fragment (#…); the API's paths are appended to it`;
  return undefined;
}

const ON = ['1', 'true', 'yes', 'on'];
const OFF = ['0', 'false', 'no', 'off', ''];

/** A switch: 1 (or true, yes, on) turns it on; unset, empty, 0 (false, no, off) leave it off; anything else is refused. */
export const flag = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const s = v?.trim().toLowerCase() ?? '';
    if (ON.includes(s)) return true;
    if (OFF.includes(s)) return false;
    ctx.addIssue({ code: 'custom', message: `must be 1 (or true, yes, on) to turn it on, or 0 (or false, no, off) or unset for off (not ${JSON.stringify(v?.slice(0, 40))})` });
    return z.NEVER;
  });

/** Problems of a failed parse as `VARIABLE: message` lines. */
export function variableProblems(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.join('.') || '(environment)'}: ${i.message}`);
}

/**
 * Whether node-postgres can read it: a URL after its own mending (spaces and stray % encoded;
 * `user@/db` with no host, as libpq allows). A bad port or host fails only when it connects,
 * with a message that does not name DATABASE_URL.
 */
export function isDatabaseUrl(v: string): boolean {
  const mended = / |%[^a-f0-9]|%[a-f0-9][^a-f0-9]/i.test(v) ? encodeURI(v).replace(/%25(\d\d)/g, '%$1') : v;
  const url = URL.canParse(mended) ? new URL(mended) : URL.canParse(mended.replace('@/', '@host/')) ? new URL(mended.replace('@/', '@host/')) : undefined;
  if (!url) return false;
  try {
    // node-postgres decodes these, and a bad %-sequence in them throws there ("URI malformed").
    decodeURIComponent(url.username);
    decodeURIComponent(url.password);
    decodeURI(url.pathname);
    return true;
  } catch {
    return false;
  }
}
