import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { bearerToken } from '../bearer-token';

/**
 * The credentials a request to /admin presents, and the cryptography behind them:
 * `Authorization: Bearer <ADMIN_TOKEN>`, or the session cookie the login form set.
 *
 * The cookie is `v1.<session id>.<HMAC(token, id)>`: the signature refuses a forged or
 * tampered cookie, and every cookie of an earlier ADMIN_TOKEN, without a database
 * lookup. Whether a well-signed session is still open — not logged out, not expired — is
 * the store's to say (sessions.ts): logging out ends that session on the server, so a
 * copied cookie stops working. (The stateless cookies of earlier releases carried a
 * time of at most 12 characters in the middle; they are refused and ask for a new login.)
 * Forms posted with the cookie carry a CSRF value derived from it.
 */

export const SESSION_COOKIE = 'autotag_admin';
export const SESSION_MS = 12 * 3600_000;

const COOKIE_SHAPE = /^v1\.([0-9a-f]{32})\.([A-Za-z0-9_-]{43})$/;

export type Credentials =
  /** Neither; `otherScheme` when an Authorization header of another scheme was left aside (see credentials). */
  | { kind: 'none'; otherScheme?: true }
  /** An Authorization header: a token guess, counted by the throttle when wrong. */
  | { kind: 'bearer'; ok: true }
  | { kind: 'bearer'; ok: false; reason: string }
  /** A session cookie; `idHash` only when its signature holds (the store still has to know it). */
  | { kind: 'cookie'; cookie: string; idHash: string | undefined };

export interface NewSession {
  /** The cookie's value. */
  cookie: string;
  /** What the store keeps instead of the id. */
  idHash: string;
}

export interface AdminAuth {
  /** Marks the sessions started under this token (kept in the store beside each session). */
  readonly tokenCheck: string;
  /**
   * The Bearer token if the request sends one (a wrong one is refused even with a good cookie),
   * else the session cookie. An Authorization header of another scheme (Basic, from a proxy in
   * front that asks for its own password) is no guess at ADMIN_TOKEN: it is left aside, and
   * counts as no token.
   */
  credentials(headers: IncomingHttpHeaders): Credentials;
  /** Constant-time check of a token typed into the login form. */
  tokenMatches(candidate: string): boolean;
  newSession(): NewSession;
  /** The CSRF value forms must echo when the request is authenticated by a session cookie. */
  csrfFor(cookie: string): string;
  /** Constant-time check of a posted CSRF value. */
  csrfMatches(cookie: string, candidate: string): boolean;
}

export function createAdminAuth(token: string): AdminAuth {
  const mac = (label: string, value: string) => createHmac('sha256', token).update(`autotag-admin-${label}:${value}`).digest('base64url');
  const tokenDigest = sha256(token);

  return {
    tokenCheck: mac('sessions', 'token-check'),
    credentials(headers) {
      const { authorization } = headers;
      const sent = bearerToken(authorization);
      if (sent !== undefined) {
        if (sent === '') return { kind: 'bearer', ok: false, reason: 'the Authorization header is "Bearer" with no token' };
        return timingSafeEqual(sha256(sent), tokenDigest) ? { kind: 'bearer', ok: true } : { kind: 'bearer', ok: false, reason: 'wrong Bearer token' };
      }
      const cookie = cookieValue(headers.cookie, SESSION_COOKIE);
      if (cookie === undefined) return authorization === undefined ? { kind: 'none' } : { kind: 'none', otherScheme: true };
      const m = COOKIE_SHAPE.exec(cookie);
      const signed = m !== null && equalStrings(m[2]!, mac('session', m[1]!));
      return { kind: 'cookie', cookie, idHash: signed ? sessionIdHash(m[1]!) : undefined };
    },
    tokenMatches: (candidate) => timingSafeEqual(sha256(candidate), tokenDigest),
    newSession() {
      const id = randomBytes(16).toString('hex');
      return { cookie: `v1.${id}.${mac('session', id)}`, idHash: sessionIdHash(id) };
    },
    csrfFor: (cookie) => mac('csrf', cookie),
    csrfMatches: (cookie, candidate) => equalStrings(candidate, mac('csrf', cookie)),
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

/** The id has 128 random bits, so a plain hash keeps a leaked table from opening any session. */
function sessionIdHash(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('hex');
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Equal strings, compared in time that does not depend on where they differ (hashing evens out lengths). */
function equalStrings(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}
