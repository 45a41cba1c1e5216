import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TokenBucket } from '../../test/helpers/fake-token-bucket';
import { nowMs } from './stats';

/**
 * A MantaGo-shaped tag API for benchmarks: like the test fakes (test/helpers/fake-mantago.ts)
 * it answers over real HTTP on 127.0.0.1, but it keeps counters instead of a record of every
 * request, so a run of hundreds of thousands of calls stays small in memory and cheap in CPU
 * (the benchmark process must not become the bottleneck it measures).
 */
export interface CountingTagApiOptions {
  /** Every answer waits this long (a remote API's round trip). */
  latencyMs: number;
  /** 429s are answered after this long instead (a rate limiter at the API's edge answers before any write is done). */
  refusedLatencyMs?: number;
  /** Expected `Authorization: Bearer …`; anything else gets 401 (a misconfigured run fails loudly). */
  token: string;
  /**
   * A token bucket refilled at `perSecond` (bursts up to `burst`): above it, 429.
   * `retryAfter` is the header sent with it: a fixed value, `'bucket'` for the whole seconds
   * until the bucket holds a token again (at least 1, as most APIs round), or undefined for none.
   */
  rateLimit?: { perSecond: number; burst?: number; retryAfter?: string };
}

export interface TagApiCounts {
  calls: number;
  /** 2xx answers. */
  ok: number;
  rateLimited: number;
  /** Runs of 429s: a 429 more than 500 ms after the previous one starts a new run (with Retry-After, one pause each). */
  rateLimitedRuns: number;
  /** 503s while `down`. */
  unavailable: number;
  other: number;
  /** Distinct (path, tagId, platformClientId) that got a 2xx. */
  applied: number;
  /** 2xx answers for a key that had one already (a repeated call). */
  repeated: number;
  /** `nowMs()` of the first call and of the latest 2xx. */
  firstCallAt: number | undefined;
  lastOkAt: number | undefined;
  maxInFlight: number;
  /** Per client, for requests whose path begins `/c/<client>/` (`clientBaseUrl`): several services sharing one API. */
  byClient: Record<string, ClientCounts>;
}

export interface ClientCounts {
  calls: number;
  ok: number;
  rateLimited: number;
  /** `nowMs()` of the client's first call. */
  firstCallAt: number;
}

/** `/c/<client>/rest` → [client, `/rest`]; any other path → [undefined, path]. */
function clientOf(url: string): [string | undefined, string] {
  const m = /^\/c\/([^/]+)(\/.*)$/.exec(url);
  return m ? [m[1], m[2] as string] : [undefined, url];
}

export class CountingTagApi {
  /** While true, every call gets 503 (the API is down). */
  down = false;
  private readonly counts: TagApiCounts = {
    calls: 0, ok: 0, rateLimited: 0, rateLimitedRuns: 0, unavailable: 0, other: 0, applied: 0, repeated: 0,
    firstCallAt: undefined, lastOkAt: undefined, maxInFlight: 0, byClient: {},
  };
  private readonly appliedKeys = new Set<string>();
  private inFlight = 0;
  private lastRateLimitedAt = -Infinity;
  private waiters: { applied: number; resolve: () => void }[] = [];
  private bucket: TokenBucket | undefined;

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
    private readonly opts: CountingTagApiOptions,
  ) {
    if (opts.rateLimit) this.bucket = new TokenBucket(opts.rateLimit.perSecond, opts.rateLimit.burst);
  }

  static async start(opts: CountingTagApiOptions): Promise<CountingTagApi> {
    let api: CountingTagApi | undefined;
    const server = http.createServer((req, res) => api?.handle(req, res));
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    api = new CountingTagApi(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, opts);
    return api;
  }

  /** MANTAGO_BASE_URL for the service. */
  get baseUrl(): string {
    return `${this.url}/api`;
  }

  /** MANTAGO_BASE_URL for one of several services: the same API, its calls also counted under `client`. */
  clientBaseUrl(client: string): string {
    return `${this.url}/c/${encodeURIComponent(client)}/api`;
  }

  snapshot(): TagApiCounts {
    return { ...this.counts, byClient: Object.fromEntries(Object.entries(this.counts.byClient).map(([k, v]) => [k, { ...v }])) };
  }

  /** Forgets the counts (between phases of one run). */
  resetCounts(): void {
    Object.assign(this.counts, { calls: 0, ok: 0, rateLimited: 0, rateLimitedRuns: 0, unavailable: 0, other: 0, applied: 0, repeated: 0, firstCallAt: undefined, lastOkAt: undefined, maxInFlight: 0, byClient: {} });
    this.appliedKeys.clear();
    this.lastRateLimitedAt = -Infinity;
    if (this.opts.rateLimit) this.bucket = new TokenBucket(this.opts.rateLimit.perSecond, this.opts.rateLimit.burst);
  }

  /** Resolves once `applied` distinct operations got a 2xx; rejects after `timeoutMs` saying how far it got. */
  waitForApplied(applied: number, timeoutMs: number): Promise<void> {
    if (this.counts.applied >= applied) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`tag API: ${this.counts.applied} of ${applied} operations applied after ${timeoutMs} ms (${JSON.stringify(this.counts)})`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push({ applied, resolve: done });
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const c = this.counts;
      c.calls++;
      c.firstCallAt ??= nowMs();
      this.inFlight++;
      c.maxInFlight = Math.max(c.maxInFlight, this.inFlight);
      const [client, path] = clientOf(req.url ?? '');
      const [status, body, headers] = this.decide(req, path, Buffer.concat(chunks).toString('utf8'));
      if (client !== undefined) {
        const cc = (c.byClient[client] ??= { calls: 0, ok: 0, rateLimited: 0, firstCallAt: nowMs() });
        cc.calls++;
        if (status === 429) cc.rateLimited++;
        else if (status < 300) cc.ok++;
      }
      setTimeout(() => {
        this.inFlight--;
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      }, status === 429 ? (this.opts.refusedLatencyMs ?? this.opts.latencyMs) : this.opts.latencyMs);
    });
  }

  private decide(req: http.IncomingMessage, path: string, raw: string): [number, unknown, Record<string, string>] {
    const c = this.counts;
    const error = (status: number, message: string) => ({ success: false, errResponse: { message, code: status } });
    if (req.headers.authorization !== `Bearer ${this.opts.token}`) {
      c.other++;
      return [401, error(401, 'invalid token'), {}];
    }
    if (this.down) {
      c.unavailable++;
      return [503, error(503, 'service unavailable'), {}];
    }
    const limit = this.opts.rateLimit;
    const waitSeconds = limit && this.bucket ? this.bucket.take() : 0;
    if (limit && waitSeconds > 0) {
      c.rateLimited++;
      const at = nowMs();
      if (at - this.lastRateLimitedAt > 500) c.rateLimitedRuns++;
      this.lastRateLimitedAt = at;
      const retryAfter = limit.retryAfter === 'bucket' ? String(waitSeconds) : limit.retryAfter;
      return [429, error(429, `rate limit of ${limit.perSecond} requests per second exceeded`), retryAfter ? { 'retry-after': retryAfter } : {}];
    }
    let parsed: { tagId?: unknown; platformClientId?: unknown };
    try {
      parsed = JSON.parse(raw) as typeof parsed;
    } catch {
      c.other++;
      return [400, error(400, 'body is not JSON'), {}];
    }
    const key = `${path.split('?')[0]} ${String(parsed.tagId)} ${String(parsed.platformClientId)}`;
    c.ok++;
    c.lastOkAt = nowMs();
    if (this.appliedKeys.has(key)) c.repeated++;
    else {
      this.appliedKeys.add(key);
      c.applied++;
      if (this.waiters.length > 0) {
        const ready = this.waiters.filter((w) => w.applied <= c.applied);
        this.waiters = this.waiters.filter((w) => w.applied > c.applied);
        for (const w of ready) w.resolve();
      }
    }
    return [200, { success: true }, {}];
  }
}
