import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { nowMs } from './stats';

/**
 * A forward destination on loopback: answers each webhook at once with `status()` (200 by
 * default) and notes when each one (by its first `webhookEventId`) first arrived, on the bench's
 * clock (stats.ts), so latency from send to receipt is read on one clock.
 */
export class Downstream {
  readonly arrivals = new Map<string, number>();
  /** Requests received, repeats included. */
  received = 0;
  private waiting: { count: number; resolve: () => void } | undefined;
  private constructor(private readonly server: http.Server, readonly url: string) {}

  static async start(o: { status?: () => number; path?: string } = {}): Promise<Downstream> {
    let d: Downstream | undefined;
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const at = nowMs();
        const id = /"webhookEventId":"([^"]+)"/.exec(Buffer.concat(chunks).toString('utf8'))?.[1];
        res.writeHead(o.status?.() ?? 200, { 'content-type': 'application/json' }).end('{}');
        if (!d) return;
        d.received++;
        if (id !== undefined && !d.arrivals.has(id)) d.arrivals.set(id, at);
        if (d.waiting && d.arrivals.size >= d.waiting.count) d.waiting.resolve();
      });
    });
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    d = new Downstream(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}${o.path ?? '/line/webhook'}`);
    return d;
  }

  /** Resolves once `count` distinct webhooks have arrived; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs: number): Promise<void> {
    if (this.arrivals.size >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`downstream: ${this.arrivals.size} of ${count} webhooks arrived within ${timeoutMs} ms`)), timeoutMs);
      this.waiting = {
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
