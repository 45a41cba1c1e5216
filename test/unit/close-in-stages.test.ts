import { createServer, type Server } from 'node:http';
import net from 'node:net';
import { closeAtOnce, closeInStages } from '../../src/close-in-stages';

const LINGER_MS = 300;

/** A server that refuses every request before reading its body, as the webhook routes' early answers do. */
function refusingServer(maxLingering: number, { atOnce = false, lingerMs = LINGER_MS } = {}): Promise<{ server: Server; port: number; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (atOnce) closeAtOnce(res);
    const body = JSON.stringify({ error: 'body is larger than MAX_BODY_BYTES' });
    res.writeHead(413, { connection: 'close', 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  closeInStages(server, { lingerMs, maxLingering });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as net.AddressInfo).port, requests })));
}

/** A client that keeps its side open: sends a head declaring a large body, resolves once the server ended its side. */
async function refusedUpload(port: number, contentLength = 100_000_000): Promise<{ socket: net.Socket; answer: string; errors: string[] }> {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  const errors: string[] = [];
  let answer = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => (answer += chunk));
  socket.on('error', (err: NodeJS.ErrnoException) => errors.push(err.code ?? err.message));
  const ended = new Promise<void>((resolve) => socket.once('end', () => resolve()));
  socket.write(`POST /webhooks/line HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${contentLength}\r\n\r\n`);
  await ended;
  return { socket, answer, errors };
}

const write = (socket: net.Socket, chunk: Buffer) => new Promise<boolean>((resolve) => socket.write(chunk, (err) => resolve(!err)));

/** Writes small chunks until the server refuses them (a reset): the server has destroyed the socket. */
async function writeUntilRefused(socket: net.Socket): Promise<void> {
  const chunk = Buffer.alloc(1024, 0x20);
  while (await write(socket, chunk)) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('closeInStages', () => {
  let server: Server;
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('ends the write side after the answer and drops what the client still sends until the client closes too', async () => {
    let port: number;
    ({ server, port } = await refusingServer(4));
    const { socket, answer, errors } = await refusedUpload(port);
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    for (let i = 0; i < 32; i++) expect(await write(socket, chunk)).toBe(true);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.end();
    await closed;
    expect(errors).toEqual([]);
  });

  it('serves no request the client sends after the body on a connection it closes (RFC 9112 §9.6)', async () => {
    let port: number;
    let requests: string[];
    ({ server, port, requests } = await refusingServer(4));
    // Closed on the server's side: all the client sent has been read by then.
    const closed = new Promise<void>((resolve) => server.once('connection', (s: net.Socket) => s.once('close', () => resolve())));
    const { socket, answer, errors } = await refusedUpload(port, 10);
    // The rest of the body, then a request pipelined behind it, then the client's end.
    socket.end('0123456789POST /webhooks/line?second HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n');
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(requests).toEqual(['POST /webhooks/line']);
    expect(errors).toEqual([]);
  });

  it('destroys the socket once the linger is over when the client never closes its side', async () => {
    let port: number;
    ({ server, port } = await refusingServer(4));
    const { socket, errors } = await refusedUpload(port);
    await writeUntilRefused(socket);
    expect(errors[0]).toMatch(/^(EPIPE|ECONNRESET)$/);
    socket.destroy();
  });

  it('past maxLingering sockets at once, closes a connection at once, as Node does', async () => {
    let port: number;
    // A linger far longer than the test: only closing at once can refuse the second's bytes.
    ({ server, port } = await refusingServer(1, { lingerMs: 60_000 }));
    const first = await refusedUpload(port);
    const second = await refusedUpload(port);
    // The second is closed at once: what it sends next is refused, while the first still lingers.
    await writeUntilRefused(second.socket);
    expect(second.errors[0]).toMatch(/^(EPIPE|ECONNRESET)$/);
    // More than the socket buffers hold: a first closed at once would have refused them (one write alone succeeds either way).
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    for (let i = 0; i < 32; i++) expect(await write(first.socket, chunk)).toBe(true);
    expect(first.errors).toEqual([]);
    first.socket.destroy();
    second.socket.destroy();
  });

  it('closes at once a connection whose answer asked for it (an overloaded 503)', async () => {
    let port: number;
    ({ server, port } = await refusingServer(4, { atOnce: true, lingerMs: 60_000 }));
    const { socket, errors } = await refusedUpload(port);
    await writeUntilRefused(socket);
    expect(errors[0]).toMatch(/^(EPIPE|ECONNRESET)$/);
    socket.destroy();
  });
});
