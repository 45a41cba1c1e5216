import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { COUPON_RULES, tempDir } from '../helpers/app-harness';
import { postHead } from '../helpers/raw-http';
import { startService, type ServiceProcess } from '../helpers/service-process';

const SECRET = 'close-in-stages-line-secret';
const MIB = 1024 * 1024;
const MAX_BODY_BYTES = 8 * MIB;
// Well formed (44 base64 characters): only the body's size or its content can refuse it.
const SOME_SIGNATURE = `${'A'.repeat(43)}=`;

/** What a client that keeps its side open after the server's end saw. */
interface HalfOpen {
  socket: net.Socket;
  received(): string;
  /** Resolves when the server has ended its side (FIN). */
  ended: Promise<void>;
  closed: Promise<void>;
  errors: string[];
}

function halfOpenRequest(port: number, head: string): HalfOpen {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  let text = '';
  const errors: string[] = [];
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => (text += chunk));
  socket.on('error', (err: NodeJS.ErrnoException) => errors.push(err.code ?? err.message));
  const ended = new Promise<void>((resolve) => socket.once('end', () => resolve()));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(`${head}\r\n\r\n`);
  return { socket, received: () => text, ended, closed, errors };
}

/** Writes `total` bytes in 64 KiB chunks, each once the last one is taken; stops at the first error. */
async function writeBody(socket: net.Socket, total: number): Promise<void> {
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  for (let sent = 0; sent < total && !socket.destroyed; sent += chunk.length) {
    const ok = await new Promise<boolean>((resolve) => socket.write(chunk, (err) => resolve(!err)));
    if (!ok) return;
  }
}

/**
 * CONTRACT (every webhook POST): 413 on the declared Content-Length, 401 on a missing
 * signature, 404 for an undeclared channel are answered before the body is read, and the
 * early answer closes the connection. The connection is closed in stages (RFC 9112 §9.6):
 * the server ends its side right after the answer, then drops what the client still sends
 * until the client closes too. Closed at once, the unread body made the kernel reset the
 * connection, and a client still sending it (fetch posting an over-size body) got EPIPE or
 * ECONNRESET instead of the answer.
 */
describe('an answer before the body is read reaches a client still sending it (child process)', () => {
  let dataDir: string;
  let rulesDir: string;
  let service: ServiceProcess;

  beforeAll(async () => {
    dataDir = tempDir('autotag-stages-');
    rulesDir = tempDir('autotag-stages-rules-');
    fs.writeFileSync(path.join(rulesDir, 'rules.yaml'), COUPON_RULES);
    service = await startService({ DATA_DIR: dataDir, RULES_DIR: rulesDir, LINE_CHANNEL_SECRET: SECRET, MAX_BODY_BYTES: String(MAX_BODY_BYTES) });
  });
  afterAll(async () => {
    service.kill('SIGKILL');
    await service.exited;
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(rulesDir, { recursive: true, force: true });
  });

  it('ends its side right after the 413, then takes the rest of the body without resetting the connection', async () => {
    const x = halfOpenRequest(service.port, postHead('/webhooks/line', { 'Content-Type': 'application/json', 'Content-Length': 2 * MAX_BODY_BYTES, 'X-Line-Signature': SOME_SIGNATURE }));
    await x.ended;
    expect(x.received()).toMatch(/^HTTP\/1\.1 413 .*\r\nconnection: close\r\n/s);
    // The client goes on sending the body it declared, as a client that does not read answers before it is done does.
    await writeBody(x.socket, 2 * MIB);
    x.socket.end();
    await x.closed;
    expect(x.errors).toEqual([]);
  });

  it.each([
    ['413, the declared length over MAX_BODY_BYTES', '/webhooks/line', 2 * MAX_BODY_BYTES, { 'x-line-signature': SOME_SIGNATURE }, 413],
    ['401, no signature', '/webhooks/line', MAX_BODY_BYTES, {}, 401],
    ['404, an undeclared channel', '/webhooks/line/not-declared', MAX_BODY_BYTES, { 'x-line-signature': SOME_SIGNATURE }, 404],
  ] as const)('fetch posting a large body gets the answer: %s', async (_name, route, size, headers, status) => {
    const body = Buffer.alloc(size, 0x20);
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${service.url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      expect(res.status).toBe(status);
      expect(res.headers.get('connection')).toBe('close');
      expect(await res.json()).toEqual({ error: expect.any(String) });
    }
  });
});
