import { createHmac } from 'node:crypto';

/**
 * Makes an HS256 JWT for tests. The service only reads `exp` (it never verifies the
 * signature: MantaGo does), so any key will do; the fake MantaGo uses its own.
 */
export function makeJwt(payload: Record<string, unknown>, key = 'fake-signing-key'): string {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const head = `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc(payload)}`;
  return `${head}.${createHmac('sha256', key).update(head).digest('base64url')}`;
}

/** A JWT whose `exp` is `ms` from `now` (negative: already expired). */
export function jwtExpiringIn(ms: number, now = Date.now(), extra: Record<string, unknown> = {}): string {
  return makeJwt({ iat: Math.floor(now / 1000), ...extra, exp: Math.floor((now + ms) / 1000) });
}
