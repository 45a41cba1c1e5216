import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChildServer } from './run-child';

/**
 * The least a LINE webhook endpoint on plain node:http does: read the body, check
 * `X-Line-Signature` (base64 HMAC-SHA256 of the raw bytes, compared in constant time),
 * then hand the body to `handle`, which answers. The bench baselines are built on it;
 * none of them is the service.
 */
export type BareHandler = (body: Buffer, res: http.ServerResponse) => void;

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'content-length': '2' };

export function answer(res: http.ServerResponse, status: number): void {
  res.writeHead(status, JSON_HEADERS);
  res.end('{}');
}

export function signatureMatches(body: Buffer, secret: string, signature: string): boolean {
  const expected = createHmac('sha256', secret).update(body).digest();
  const given = Buffer.from(signature, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export async function listenBare(secret: string, handle: BareHandler, close: () => Promise<void> = async () => undefined): Promise<ChildServer> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      const signature = req.headers['x-line-signature'];
      if (req.method !== 'POST' || typeof signature !== 'string' || !signatureMatches(body, secret, signature)) {
        answer(res, 401);
        return;
      }
      handle(body, res);
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await close();
    },
  };
}

/** The events of a LINE webhook body, as far as the minimal servers need them. */
export function lineEvents(body: Buffer): { webhookEventId: string; userId: string }[] {
  const parsed = JSON.parse(body.toString('utf8')) as { events?: { webhookEventId?: unknown; source?: { userId?: unknown } }[] };
  const out: { webhookEventId: string; userId: string }[] = [];
  for (const e of parsed.events ?? []) {
    if (typeof e.webhookEventId === 'string' && typeof e.source?.userId === 'string') out.push({ webhookEventId: e.webhookEventId, userId: e.source.userId });
  }
  return out;
}

/**
 * Collects what arrives during one event-loop turn and hands it to `commit` as one
 * batch; while a commit runs, the next batch collects. Each waiter is answered with
 * the outcome of the commit its item was in.
 */
export function perTurnBatches<T>(commit: (items: T[]) => Promise<void>): (item: T) => Promise<void> {
  let queue: { item: T; done: (err?: unknown) => void }[] = [];
  let running = false;
  let scheduled = false;
  const run = async () => {
    scheduled = false;
    if (running) return;
    running = true;
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      try {
        await commit(batch.map((w) => w.item));
        for (const w of batch) w.done();
      } catch (err) {
        for (const w of batch) w.done(err);
      }
    }
    running = false;
  };
  return (item) =>
    new Promise<void>((resolve, reject) => {
      queue.push({ item, done: (err) => (err === undefined ? resolve() : reject(err)) });
      if (!scheduled && !running) {
        scheduled = true;
        setImmediate(() => void run());
      }
    });
}
