/**
 * The token of an `Authorization: Bearer <token>` header (RFC 6750; the scheme in any case),
 * or undefined when the header is absent or of another scheme. Everything after the scheme
 * is the token, trimmed, spaces inside included: ADMIN_TOKEN and METRICS_TOKEN are read from
 * the environment as written, and a passphrase with spaces is a token too. '' when the header
 * is "Bearer" with nothing after it.
 */
export function bearerToken(authorization: string | undefined): string | undefined {
  const header = authorization?.trim();
  if (header === undefined) return undefined;
  const scheme = header.split(/\s/, 1)[0]!;
  if (scheme.toLowerCase() !== 'bearer') return undefined;
  return header.slice(scheme.length).trim();
}
