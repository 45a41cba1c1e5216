import { createHash } from 'node:crypto';

/** How deep `fingerprint` looks; deeper content is ignored so hostile nesting cannot blow the stack. */
const MAX_DEPTH = 4;

/**
 * A stable digest of a parsed JSON value: the same content always gives the same
 * 32 hex characters. Used as an event id for events that carry none of their own
 * (an old-style LINE payload without `webhookEventId`, a Meta read or referral),
 * so that a redelivered copy is still recognised as a duplicate.
 *
 * Unlike `JSON.stringify`, it is bounded in depth, so it cannot throw on deeply
 * nested input; keys are sorted so key order does not matter.
 */
export function fingerprint(value: unknown, skipTopLevelKeys: readonly string[] = []): string {
  const hash = createHash('sha256');
  feed(hash, value, 0, skipTopLevelKeys);
  return hash.digest('hex').slice(0, 32);
}

function feed(hash: ReturnType<typeof createHash>, value: unknown, depth: number, skip: readonly string[]): void {
  if (value === null || typeof value !== 'object') {
    hash.update(`${typeof value}:${String(value)};`);
    return;
  }
  if (depth >= MAX_DEPTH) {
    hash.update('…;');
    return;
  }
  if (Array.isArray(value)) {
    hash.update('[');
    for (const item of value) feed(hash, item, depth + 1, []);
    hash.update(']');
    return;
  }
  const record = value as Record<string, unknown>;
  hash.update('{');
  for (const key of Object.keys(record).sort()) {
    if (skip.includes(key)) continue;
    hash.update(`${JSON.stringify(key)}=`);
    feed(hash, record[key], depth + 1, []);
  }
  hash.update('}');
}
