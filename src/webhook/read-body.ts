import type { IncomingMessage } from 'node:http';
import type { Readable, Transform } from 'node:stream';
import zlib from 'node:zlib';

/** CONTRACT: a socket whose request headers take over 10 s, or whose body takes over 30 s, is closed. */
export const HEADERS_TIMEOUT_MS = 10_000;
export const BODY_TIMEOUT_MS = 30_000;
/** Bodies up to this size are ordinary webhooks: the last part of the budget is kept for them. */
export const SMALL_BODY_BYTES = 64 * 1024;

/**
 * The bytes of webhook bodies whose signature is not checked yet, across all connections:
 * one counter. A body counts with its declared Content-Length from the start (so a flood is
 * refused before it is read), or with what has arrived when that is more (chunked or
 * compressed bodies). Past the budget a body is refused (503), so wrongly signed uploads
 * cost at most `cap` bytes. An eighth of it (less when a body of MAX_BODY_BYTES would not
 * fit beside it) is kept for bodies of at most 64 KiB, so large uploads cannot crowd out
 * ordinary webhooks.
 */
export class UnverifiedBodies {
  held = 0;
  private readonly largeCap: number;

  constructor(readonly cap: number, maxBodyBytes: number) {
    this.largeCap = cap - Math.max(0, Math.min(Math.floor(cap / 8), cap - maxBodyBytes));
  }

  /** Counts `n` more bytes for a body that then has `total`, if the budget has room for them. */
  take(total: number, n: number): boolean {
    if (this.held + n > (total <= SMALL_BODY_BYTES ? this.cap : this.largeCap)) return false;
    this.held += n;
    return true;
  }
}

/** Why a body was not read whole; `status` 0: the client went away (nothing to answer). */
export class BodyReadError extends Error {
  constructor(readonly status: 0 | 400 | 408 | 413 | 415 | 503, message: string) {
    super(message);
    this.name = 'BodyReadError';
  }
}

export interface HeldBody {
  bytes: Buffer;
  /** Gives the bytes back to the budget (once verified or rejected); may be called again. */
  release(): void;
}

const DECOMPRESS: Record<string, () => Transform> = {
  gzip: () => zlib.createGunzip(),
  'x-gzip': () => zlib.createGunzip(),
  deflate: () => zlib.createInflate(),
  br: () => zlib.createBrotliDecompress(),
};

/**
 * Reads a request body into memory, counted in `budget` (see above): 503 when the budget
 * has no room for it (before anything is read) or for what keeps arriving, 413 past
 * `limit`, 408 when it takes longer than `timeoutMs`. The bytes are given back as soon as
 * reading fails or the socket closes; on success the caller releases them once the
 * signature is checked. `reading` is called once the body is going to be read (the
 * budget has room and its encoding is known), before any of it is.
 */
export function readBody(req: IncomingMessage, budget: UnverifiedBodies, limit: number, timeoutMs: number, reading?: () => void): Promise<HeldBody> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    let counted = Number.isFinite(declared) ? declared : 0;
    const busy = () => new BodyReadError(503, `too many unverified webhook bodies are being received at once (MAX_UNVERIFIED_BYTES (${budget.cap} bytes) is in use); try again later`);
    if (!budget.take(counted, counted)) return reject(busy());
    const chunks: Buffer[] = [];
    let received = 0;
    let done = false;
    const release = () => {
      budget.held -= counted;
      counted = 0;
    };
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    let source: Readable = req;
    if (encoding !== 'identity') {
      const make = Object.hasOwn(DECOMPRESS, encoding) ? DECOMPRESS[encoding] : undefined;
      if (!make) {
        release();
        return reject(new BodyReadError(415, `Content-Encoding ${JSON.stringify(encoding.slice(0, 40))} is not supported (gzip, deflate, br or none)`));
      }
      source = req.pipe(make());
    }
    reading?.();
    const fail = (err: BodyReadError) => {
      if (done) return;
      finish();
      release();
      if (source !== req) source.destroy();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) return fail(new BodyReadError(413, `body is larger than MAX_BODY_BYTES (${limit} bytes)`));
      if (received > counted) {
        if (!budget.take(received, received - counted)) return fail(busy());
        counted = received;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      if (done) return;
      finish();
      resolve({ bytes: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received), release });
    };
    const onClose = () => {
      if (!req.complete) fail(new BodyReadError(0, 'the client closed the connection before the body was complete'));
    };
    const onError = (err: Error) => fail(new BodyReadError(source === req ? 0 : 400, `could not read the body: ${err.message}`));
    const timer = setTimeout(() => fail(new BodyReadError(408, `the body took longer than ${timeoutMs / 1000} s`)), timeoutMs);
    timer.unref();
    const finish = () => {
      done = true;
      clearTimeout(timer);
      source.off('data', onData).off('end', onEnd).off('error', onError);
      req.off('close', onClose).off('error', onError);
    };
    source.on('data', onData).on('end', onEnd).on('error', onError);
    if (source !== req) req.on('error', onError);
    req.on('close', onClose);
  });
}
