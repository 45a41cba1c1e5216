import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * Who may see /admin: a request with `Authorization: Bearer <ADMIN_TOKEN>`, or a
 * browser holding the session cookie the login form set.
 *
 * The session is stateless so it works across restarts and several instances:
 * `v1.<issued-at>.<HMAC(token, issued-at)>`. It never contains the token, stops
 * working after SESSION_MS, and stops working for everyone when ADMIN_TOKEN changes.
 * Forms posted with the cookie carry a CSRF value derived from the session.
 */

export const SESSION_COOKIE = 'autotag_admin';
export const SESSION_MS = 12 * 3600_000;
/** A session issued this far "in the future" is still accepted (clocks of several instances differ a little). */
const CLOCK_SKEW_MS = 60_000;

export type Access =
  | { ok: true; via: 'bearer' }
  | { ok: true; via: 'session'; session: string; csrf: string }
  | { ok: false; reason: string };

export interface AdminAuth {
  /** Checks the Authorization header, else the session cookie. A wrong Bearer token is refused even with a good cookie. */
  check(headers: IncomingHttpHeaders): Access;
  /** Constant-time check of a token typed into the login form. */
  tokenMatches(candidate: string): boolean;
  /** A new session value (for the cookie). */
  newSession(): string;
  /** The CSRF value forms must echo when the request is authenticated by `session`. */
  csrfFor(session: string): string;
  /** Constant-time check of a posted CSRF value. */
  csrfMatches(session: string, candidate: string): boolean;
}

export function createAdminAuth(token: string, now: () => number): AdminAuth {
  const mac = (label: string, value: string) => createHmac('sha256', token).update(`autotag-admin-${label}:${value}`).digest('base64url');
  const tokenDigest = sha256(token);

  const sessionValid = (value: string): boolean => {
    const m = /^v1\.([0-9a-z]{1,12})\.([A-Za-z0-9_-]{43})$/.exec(value);
    if (!m) return false;
    const issuedAt = parseInt(m[1]!, 36);
    const age = now() - issuedAt;
    if (age > SESSION_MS || age < -CLOCK_SKEW_MS) return false;
    return equalStrings(m[2]!, mac('session', m[1]!));
  };

  return {
    check(headers) {
      const authorization = headers.authorization;
      if (authorization !== undefined) {
        const m = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
        if (!m) return { ok: false, reason: 'the Authorization header is not "Bearer <token>"' };
        return timingSafeEqual(sha256(m[1]!), tokenDigest) ? { ok: true, via: 'bearer' } : { ok: false, reason: 'wrong Bearer token' };
      }
      const session = cookieValue(headers.cookie, SESSION_COOKIE);
      if (session === undefined) return { ok: false, reason: 'no Bearer token and no session cookie' };
      if (!sessionValid(session)) return { ok: false, reason: 'the session cookie is invalid or expired' };
      return { ok: true, via: 'session', session, csrf: mac('csrf', session) };
    },
    tokenMatches: (candidate) => timingSafeEqual(sha256(candidate), tokenDigest),
    newSession() {
      const issuedAt = now().toString(36);
      return `v1.${issuedAt}.${mac('session', issuedAt)}`;
    },
    csrfFor: (session) => mac('csrf', session),
    csrfMatches: (session, candidate) => equalStrings(candidate, mac('csrf', session)),
  };
}

/** The `Set-Cookie` value that starts a session; only sent over HTTPS (browsers treat localhost as secure too). */
export function sessionCookie(value: string, path: string): string {
  return `${SESSION_COOKIE}=${value}; Path=${path}; Max-Age=${SESSION_MS / 1000}; HttpOnly; Secure; SameSite=Strict`;
}

export function clearedSessionCookie(path: string): string {
  return `${SESSION_COOKIE}=; Path=${path}; Max-Age=0; HttpOnly; Secure; SameSite=Strict`;
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Equal strings, compared in time that does not depend on where they differ (hashing evens out lengths). */
function equalStrings(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}
