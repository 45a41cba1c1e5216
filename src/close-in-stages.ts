import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface LingerLimits {
  /** How long a socket whose answer is out keeps taking (and dropping) what the client still sends. */
  lingerMs: number;
  /** How many sockets may do so at once; past that, a connection is closed at once, as Node does. */
  maxLingering: number;
}

/**
 * 2 s, as Apache's lingering close. Two sockets at a time: a platform or a person posting a
 * large body gets its answer, also when the connection of the one before is still closing; of
 * a flood of refused uploads two at a time are dropped (each byte dropped still passes through
 * memory until the next garbage collection: four at once added up to 27 MB to the service's
 * RSS under the 60-upload flood of unverified-bodies-process.test.ts), and the rest are closed
 * at once, as before.
 */
export const LINGER_LIMITS: LingerLimits = { lingerMs: 2000, maxLingering: 2 };

const atOnce = new WeakSet<Socket>();

/**
 * What a lingering socket's HTTP parser does with a request that comes after the body: serves
 * nothing, drops its body. The connection can no longer answer it (a webhook would be stored,
 * its 200 never sent), and RFC 9112 §9.6: a server that sent `close` "MUST NOT process any
 * further requests received on that connection".
 */
const unserved = (req: IncomingMessage): number => {
  req.resume();
  return 0;
};

/**
 * The connection of `res` is closed at once after its answer, without lingering: for answers
 * that say the service is overloaded (503, too many unverified bodies at once), when dropping
 * yet more bytes would only add to the load.
 */
export function closeAtOnce(res: ServerResponse): void {
  if (res.socket) atOnce.add(res.socket);
}

/**
 * A connection the server closes after an answer (`connection: close`: a webhook refused
 * before its body was read — 404, 503, 413, 401 — or cut off while it was read) is closed
 * in stages, as RFC 9112 §9.6 asks (https://www.rfc-editor.org/rfc/rfc9112#section-9.6):
 * first the write side (the client sees the end of the connection right after the answer),
 * then the server keeps reading, and dropping, what the client still sends until the client
 * closes its side too, for at most `lingerMs`; only then is the socket destroyed.
 *
 * Node closes it at once instead (`socket.destroySoon()` once the answer is written). With
 * bytes of the refused body still unread, the kernel then resets the connection, and a
 * client still sending its body gets EPIPE or ECONNRESET and never reads the answer: a body
 * of MAX_BODY_BYTES + 1 posted with fetch (undici) or Python's http.client never saw its 413.
 * Nothing dropped is kept, so the checks made before the body is read still hold none of it.
 */
export function closeInStages(server: Server, limits: LingerLimits = LINGER_LIMITS): void {
  let lingering = 0;
  server.on('connection', (socket: Socket) => {
    const nodeDestroySoon = socket.destroySoon;
    let closing = false;
    // The one place Node's HTTP server closes a connection after an answer (lib/_http_server.js, resOnFinish).
    socket.destroySoon = function lingeringClose(this: Socket) {
      if (closing || this.destroyed) return;
      closing = true;
      if (lingering >= limits.maxLingering || atOnce.has(this)) {
        nodeDestroySoon.call(this);
        return;
      }
      lingering++;
      if (this.writable) this.end();
      const timer = setTimeout(() => this.destroy(), limits.lingerMs);
      timer.unref();
      this.once('close', () => {
        lingering--;
        clearTimeout(timer);
      });
      // The client has closed its side: nothing more can come.
      this.once('end', () => this.destroy());
      // The parser hands a request to the server through `onIncoming` (lib/_http_server.js
      // sets it per connection, and clears it when it frees the parser): none is served now.
      const parser = (this as { parser?: { onIncoming: unknown } | null }).parser;
      if (parser) parser.onIncoming = unserved;
      // Read on, even when the request was left paused: the HTTP parser drops the rest of a body no one reads.
      this.resume();
    };
  });
}
