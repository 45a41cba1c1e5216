import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';

/**
 * CONTRACT.md "Retries": an answer's body is read only up to 64 KiB, from tag APIs and
 * forward destinations alike. Every answer those APIs document is a few hundred bytes;
 * a body past this is an error page or a hostile upstream, and reading it whole once
 * took the process to 1.35 GB (issue 17), again on every retry.
 */
export const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * What an error about an answer adds when its body was not read whole ('' when it was):
 * cut at the limit, or — `stopped` says why — ended before its end (a timeout, a reset).
 */
export function cutBodyNote(complete: boolean, stopped?: string): string {
  if (complete) return '';
  if (stopped !== undefined) return ` (its body stopped before its end: ${stopped}; only the start was read)`;
  return ` (its body is longer than ${MAX_ANSWER_BYTES / 1024} KiB: only the start was read)`;
}

/**
 * Why an answer's body stopped before its end, as a reason says it; `timeout` names the
 * deadline (`10000 ms`, `60000 ms (FORWARD_TIMEOUT_MS)`). Tag APIs and forwards alike.
 */
export function bodyStopReason(err: unknown, timedOut: boolean, timeout: string): string {
  if (isTimeoutError(err, timedOut)) return `no more of it within ${timeout}`;
  return (err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined) ?? (err instanceof Error ? err.message : String(err));
}

/** Whether a call ended by its own deadline (`timedOut`) or by one of undici's (its error's name or code says Timeout). */
export function isTimeoutError(err: unknown, timedOut: boolean): boolean {
  return timedOut || (err instanceof Error && /timeout/i.test(`${err.name} ${(err as NodeJS.ErrnoException).code ?? ''}`));
}

export interface BoundedBody {
  /** At most the limit: the whole body when `complete`, else its start (what came before `error`). */
  bytes: Buffer;
  /** False when the body went on past the limit (the rest was not read and the connection was closed), or stopped with `error`. */
  complete: boolean;
  /** What ended the body before its end (an abort at the call's deadline, a reset); the status it came with still stands. */
  error?: unknown;
}

/**
 * Reads a response body up to `limit` bytes. A longer body is destroyed at once
 * (undici then closes its connection) instead of being drained, so neither memory
 * nor time grows with what the other side sends. A body that ends in an error (the
 * call's deadline, a reset) is not thrown: what came before it is returned with the
 * error, since the status it came with has been answered all the same.
 */
export async function readAtMost(body: Readable, limit = MAX_ANSWER_BYTES): Promise<BoundedBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
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
  } catch (error) {
    return { bytes: Buffer.concat(chunks, size), complete: false, error };
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
