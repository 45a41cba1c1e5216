import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedForward {
  seq: number;
  path: string;
  headers: http.IncomingHttpHeaders;
  raw: Buffer;
  at: number;
  status?: number;
}

/** `body`: what the answer says (default `{}`). */
type Answer = { status: number; body?: string } | { hold: Promise<number> };

/**
 * A real HTTP server standing in for the chatbot platform that receives forwards.
 * It keeps the raw bytes of every request and answers from a policy the test sets.
 */
export class Downstream {
  readonly received: ReceivedForward[] = [];
  private readonly events = new EventEmitter();
  private policy: (r: ReceivedForward) => Answer = () => ({ status: 200 });

  private constructor(private readonly server: http.Server, readonly url: string) {
    this.events.setMaxListeners(0);
  }

  static async start(): Promise<Downstream> {
    let d: Downstream | undefined;
    const server = http.createServer((req, res) => void d?.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    d = new Downstream(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return d;
  }

  answer(policy: (r: ReceivedForward) => Answer): void {
    this.policy = policy;
  }

  /** Requests answered with 2xx, in order of arrival. */
  get delivered(): ReceivedForward[] {
    return this.received.filter((r) => r.status !== undefined && r.status < 300);
  }

  waitFor(cond: (received: readonly ReceivedForward[]) => boolean, timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!cond(this.received)) return;
        clearTimeout(timer);
        this.events.off('change', check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.events.off('change', check);
        reject(new Error(`downstream: condition not met within ${timeoutMs} ms (${this.received.length} received: ${this.received.map((r) => r.status ?? 'pending').join(',')})`));
      }, timeoutMs);
      this.events.on('change', check);
      check();
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rec: ReceivedForward = { seq: this.received.length + 1, path: req.url ?? '/', headers: req.headers, raw: Buffer.concat(chunks), at: Date.now() };
    this.received.push(rec);
    this.events.emit('change');
    const a = this.policy(rec);
    const status = 'hold' in a ? await a.hold : a.status;
    rec.status = status;
    if (!res.destroyed) res.writeHead(status, { 'content-type': 'application/json' }).end('body' in a && a.body !== undefined ? a.body : '{}');
    this.events.emit('change');
  }
}

/** A promise the test resolves later (to release a held request). */
export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
