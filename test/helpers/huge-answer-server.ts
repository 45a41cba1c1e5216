import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real HTTP server on 127.0.0.1 (port 0) that answers every request with a status
 * and a body of `bytes` bytes — hundreds of megabytes if asked — streamed from one
 * reused 64 KiB chunk with backpressure, so the server itself allocates nothing per
 * byte and the memory a test measures is the client's.
 *
 * It records how much of each answer went out and whether the client hung up before
 * the end (what a bounded reader does).
 */
export interface HugeAnswer {
  status: number;
  /** Total body length. */
  bytes: number;
  /** Declare the length (Content-Length) or send it chunked. Default true. */
  declareLength?: boolean;
  headers?: Record<string, string>;
  /** How the body starts; default HUGE_BODY_START. */
  start?: string;
}

export interface ServedAnswer {
  status: number;
  /** Body bytes handed to the socket before it ended or closed. */
  sent: number;
  /** The client closed the connection before the whole body was sent. */
  cutOff: boolean;
}

/** The body text: a recognisable start (for excerpts), then filler. */
export const HUGE_BODY_START = '<html><body>upstream overloaded; this page goes on and on ';

export class HugeAnswerServer {
  readonly served: ServedAnswer[] = [];
  /** Answers for the next requests, in order; `answer` after them. */
  readonly script: HugeAnswer[] = [];
  private waiters: (() => void)[] = [];

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
    public answer: HugeAnswer,
  ) {}

  static async start(answer: HugeAnswer): Promise<HugeAnswerServer> {
    let self: HugeAnswerServer | undefined;
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => self?.serve(res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self = new HugeAnswerServer(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, answer);
    return self;
  }

  /** Resolves once `n` answers have ended (sent whole, or cut off by the client). */
  waitForServed(n: number, timeoutMs = 20_000): Promise<ServedAnswer[]> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.served.length < n) return false;
        clearTimeout(timer);
        resolve(this.served.slice(0, n));
        return true;
      };
      const timer = setTimeout(() => reject(new Error(`huge-answer server: ${this.served.length} of ${n} answers ended within ${timeoutMs} ms`)), timeoutMs);
      if (!check()) this.waiters.push(() => void check());
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private serve(res: http.ServerResponse): void {
    const { status, bytes, declareLength = true, headers = {}, start = HUGE_BODY_START } = this.script.shift() ?? this.answer;
    const chunk = Buffer.alloc(64 * 1024, 'x');
    chunk.write(start);
    res.writeHead(status, { 'content-type': 'text/html', ...(declareLength ? { 'content-length': String(bytes) } : {}), ...headers });
    let sent = 0;
    let ended = false;
    const finish = (cutOff: boolean) => {
      if (ended) return;
      ended = true;
      this.served.push({ status, sent, cutOff });
      for (const w of this.waiters.splice(0)) w();
    };
    res.on('close', () => finish(sent < bytes || !res.writableFinished));
    const pump = () => {
      while (sent < bytes && !res.destroyed) {
        const n = Math.min(chunk.length, bytes - sent);
        sent += n;
        if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          res.once('drain', pump);
          return;
        }
      }
      if (sent >= bytes && !res.destroyed) res.end();
    };
    pump();
  }
}

export interface MemoryGrowth {
  /** Peak growth of what JavaScript holds: the V8 heap plus Buffers and other memory outside it. */
  heapAndBuffers: number;
  /** Peak growth of the resident set (also counts allocator slack, so it is noisier). */
  rss: number;
}

/** Samples this process's memory every few milliseconds until stopped; returns the peak growth in bytes. */
export function watchMemory(intervalMs = 5): { stop(): MemoryGrowth } {
  const held = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.external;
  };
  const start = { held: held(), rss: process.memoryUsage.rss() };
  const peak = { ...start };
  const sample = () => {
    peak.held = Math.max(peak.held, held());
    peak.rss = Math.max(peak.rss, process.memoryUsage.rss());
  };
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { heapAndBuffers: peak.held - start.held, rss: peak.rss - start.rss };
    },
  };
}
