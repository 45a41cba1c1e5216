import fs from 'node:fs';
import net from 'node:net';

/** What one raw HTTP client saw: the answer (if any) and when the server closed the socket. */
export interface RawExchange {
  socket: net.Socket;
  /** When the request head was written (performance.now()). */
  startedAt: number;
  /** Everything the server sent so far. */
  received(): string;
  /** The status of the answer, once one arrived. */
  status(): number | undefined;
  /** Resolves when the socket is closed, with the time (performance.now()). */
  closed: Promise<number>;
}

/**
 * Opens a socket and writes `head` (the request line and headers, without the blank line
 * when `completeHead` is false) and then `body` (which may be shorter than the declared
 * length: the client then stalls, as a slow or hostile client does). Nothing is retried.
 */
export function rawRequest(port: number, head: string, body?: Buffer, completeHead = true): RawExchange {
  const socket = net.connect(port, '127.0.0.1');
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    if (text.length < 64 * 1024) text += chunk;
  });
  socket.on('error', () => {}); // the server may reset a socket it refuses
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now())));
  const startedAt = performance.now();
  socket.write(completeHead ? `${head}\r\n\r\n` : head);
  if (body && body.length > 0) socket.write(body);
  return {
    socket,
    startedAt,
    received: () => text,
    status: () => {
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      return m ? Number(m[1]) : undefined;
    },
    closed,
  };
}

/** The request head of a POST with these headers (Host added). */
export function postHead(path: string, headers: Record<string, string | number>): string {
  return [`POST ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)].join('\r\n');
}

/** A header of an answer in `received` text (lower-case name), or undefined. */
export function answerHeader(received: string, name: string): string | undefined {
  const head = received.split('\r\n\r\n', 1)[0] ?? '';
  for (const line of head.split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    if (line.slice(0, i).trim().toLowerCase() === name) return line.slice(i + 1).trim();
  }
  return undefined;
}

/** The JSON body of an answer in `received` text (Content-Length framed, as express sends it). */
export function answerJson(received: string): unknown {
  const i = received.indexOf('\r\n\r\n');
  return JSON.parse(received.slice(i + 4));
}

/** The resident set size of a process in bytes, from /proc/PID/status (VmRSS). */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`/proc/${pid}/status has no VmRSS line`);
  return Number(m[1]) * 1024;
}
