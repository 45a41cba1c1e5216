import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { BODY_TIMEOUT_MS, HEADERS_TIMEOUT_MS } from './webhook/read-body';

/** A parse error of Node's HTTP parser (llhttp) carries a fixed sentence in `reason`; a timeout only its code. */
type ClientError = Error & { code?: string; reason?: string };

/**
 * The server's 'clientError' listener: a request Node cannot take (a Content-Length that is not
 * a number or comes with Transfer-Encoding, a malformed request line, headers past Node's size
 * limit, headers that took over 10 s) gets the status Node itself gives it — 400, 431, 413 or
 * 408 — with a JSON error saying what was wrong, as every other refusal has, rather than a bare
 * status line; then the connection is closed. Nothing is written on a socket that is gone, nor
 * into an answer already being written (as Node's own listener).
 */
export function answerClientError(err: ClientError, socket: Duplex): void {
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent === true) {
    socket.destroy();
    return;
  }
  const [status, error] = described(err);
  const body = JSON.stringify({ error });
  const head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n`;
  // Closed once the answer is out, whatever the client still sends.
  socket.end(head + body, () => socket.destroy());
}

function described(err: ClientError): [number, string] {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'the request headers are too large'];
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return [413, 'the chunk extensions of the body are too large'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, `the request took too long (headers: ${HEADERS_TIMEOUT_MS / 1000} s at most; a request other than a webhook: ${(HEADERS_TIMEOUT_MS + BODY_TIMEOUT_MS) / 1000} s with its body)`];
    default:
      return [400, `malformed HTTP request: ${err.reason ?? err.code ?? 'the request could not be parsed'}`];
  }
}
