import { WebhookBodyError } from './errors';

/** Parses the raw request bytes as a JSON object, or says precisely why they are not one. */
export function parseJsonObject(rawBody: Buffer): Record<string, unknown> {
  const text = rawBody.toString('utf8');
  // JSON.parse's own message would quote the mark, which no one can see.
  if (text.startsWith('\uFEFF')) throw new WebhookBodyError('body is not JSON: it starts with a byte order mark (U+FEFF), which JSON text must not have');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new WebhookBodyError(`body is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isRecord(value)) throw new WebhookBodyError(`body must be a JSON object, not ${describeJson(value)}`);
  return value;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Names a JSON value's kind for error messages, never its content. */
export function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value === undefined) return 'missing';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
