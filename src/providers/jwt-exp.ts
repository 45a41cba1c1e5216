/**
 * Reads `exp` (seconds since the epoch) from a JWT without verifying it: the service
 * only needs to know when MantaGo will stop accepting the token, and MantaGo itself
 * is the one that verifies it. Returns the expiry in milliseconds, or undefined when
 * the token is not a JWT, carries no numeric `exp`, or one beyond the dates JavaScript
 * can hold (±8.64e15 ms: `new Date(exp).toISOString()` would throw where the expiry is logged).
 */
export function jwtExpiresAt(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as unknown;
    if (typeof payload !== 'object' || payload === null) return undefined;
    const exp = (payload as { exp?: unknown }).exp;
    if (typeof exp !== 'number') return undefined;
    const ms = exp * 1000;
    return Number.isFinite(new Date(ms).getTime()) ? ms : undefined;
  } catch {
    return undefined;
  }
}
