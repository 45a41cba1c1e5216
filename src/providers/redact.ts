import { secretMasker } from '../mask-secrets';

/**
 * Removes credentials from text that may end up in an error, a dead letter or a log:
 * every known secret value (as the logs mask them, mask-secrets.ts), JSON fields named
 * like credentials (a token refresh answer carries `apiToken`/`apiSecret`), and anything
 * shaped like a JWT.
 */
const SECRET_FIELD = /("(?:secret|apiSecret|apiToken|token|access_token|accessToken|authorization)"\s*:\s*)"(?:[^"\\]|\\.)*"/gi;
const JWT_SHAPE = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
const BEARER = /(Bearer\s+)[^\s"',]+/gi;

export function redactSecrets(text: string, secrets: readonly string[]): string {
  const out = secretMasker(secrets.filter((v) => v.length >= 4))(text);
  return out.replace(SECRET_FIELD, '$1"[redacted]"').replace(JWT_SHAPE, '[redacted]').replace(BEARER, '$1[redacted]');
}

export const EXCERPT_CHARS = 300;

/** The first ~300 characters of a response body, credentials removed; undefined when empty. */
export function bodyExcerpt(text: string, secrets: readonly string[]): string | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const clean = redactSecrets(trimmed, secrets);
  return clean.length > EXCERPT_CHARS ? `${clean.slice(0, EXCERPT_CHARS)}…` : clean;
}
