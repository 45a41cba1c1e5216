import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';

/**
 * CONTRACT.md "Retries": an answer's body is read only up to 64 KiB, from tag APIs and
 * forward destinations alike. Every answer those APIs document is a few hundred bytes;
 * a body past this is an error page or a hostile upstream, and reading it whole once
 * took the process to 1.35 GB (issue 17), again on every retry.
 */
export const MAX_ANSWER_BYTES = 64 * 1024;

/** What an error about an answer adds when its body was cut ('' when it was read whole). */
export function cutBodyNote(complete: boolean): string {
  return complete ? '' : ` (its body is longer than ${MAX_ANSWER_BYTES / 1024} KiB: only the start was read)`;
}

export interface BoundedBody {
  /** At most the limit: the whole body when `complete`, else its start. */
  bytes: Buffer;
  /** False when the body went on past the limit: the rest was not read and the connection was closed. */
  complete: boolean;
}

/**
 * Reads a response body up to `limit` bytes. A longer body is destroyed at once
 * (undici then closes its connection) instead of being drained, so neither memory
 * nor time grows with what the other side sends.
 */
export async function readAtMost(body: Readable, limit = MAX_ANSWER_BYTES): Promise<BoundedBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    if (size + buf.length > limit) {
      chunks.push(buf.subarray(0, limit - size));
      discard(body);
      return { bytes: Buffer.concat(chunks, limit), complete: false };
    }
    chunks.push(buf);
    size += buf.length;
  }
  return { bytes: Buffer.concat(chunks, size), complete: true };
}

/**
 * Throws an undici body away without keeping it: a short one is drained (its keep-alive
 * connection can be reused), one longer than `limit` — declared or as it arrives — is
 * destroyed, closing its connection. Resolves when the body is done with.
 */
export async function discardBody(body: Dispatcher.ResponseData['body'], limit = MAX_ANSWER_BYTES): Promise<void> {
  await body.dump({ limit }).catch(() => undefined);
}

function discard(body: Readable): void {
  // Destroying an undici body aborts its request and emits that as an error: nobody waits for it.
  body.on('error', () => undefined);
  body.destroy();
}
