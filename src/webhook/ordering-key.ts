import { createHash } from 'node:crypto';
import { MAX_USER_ID_CHARS } from '../platforms/user-id';

/**
 * A webhook's ordering key as its forwards are stored: one longer than the longest usable
 * user id (a recipient — LINE's `destination`, a Meta entry id or `object` — is a string
 * of any length) by its SHA-256, so that it fits the index that finds each key's oldest
 * forward (PostgreSQL's btree refuses entries over 2704 bytes, which failed the whole
 * webhook). Equal keys stay equal, so the order per key is kept.
 */
export function storedOrderingKey(key: string): string {
  return key.length <= MAX_USER_ID_CHARS ? key : `sha256:${createHash('sha256').update(key).digest('hex')}`;
}
