import { EventEmitter } from 'node:events';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TokenBucket } from './fake-token-bucket';

/**
 * A real HTTP server on 127.0.0.1 (port 0) standing in for a tag API. It records every
 * request, answers from a script or a responder, and watches for what the service must
 * not do (two calls for one key in flight at once; more calls per second than allowed).
 *
 * Decision order for each request: rate limit (429) → the first matching scripted answer
 * → the responder (the MantaGo/BotBonnie flavours put their simulated API here) → 200
 * `{"success":true}`.
 *
 * Import it from fake-tag-api.ts, which also holds the MantaGo and BotBonnie flavours.
 * (One class of ~300 lines on purpose: recording, scripting and in-flight tracking share
 * the per-request lifecycle in `handle`, and tests read it as one thing.)
 */

export interface RecordedRequest {
  /** 1, 2, 3… in order of arrival. */
  seq: number;
  method: string;
  /** The path without the query string, e.g. `/api/openapi/personalTagMapping`. */
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** The body parsed as JSON, or undefined. */
  body: unknown;
  /** Date.now() when the request (with its body) had arrived. */
  receivedAt: number;
  /** From `keyOf`, when given. */
  key?: string;
  /** What was answered; undefined while in flight, and when no answer was sent. */
  status?: number;
  /** The fake closed the connection without answering (a scripted `drop`). */
  dropped?: boolean;
  /** The client went away before the answer (e.g. its timeout fired). */
  abandoned?: boolean;
  rateLimited?: boolean;
  /** Date.now() when the exchange ended (answer sent, or connection closed). */
  finishedAt?: number;
}

export interface ScriptedResponse {
  /** Default 200. */
  status?: number;
  /** An object is sent as JSON; a string as it is. Default `{"success":true}`. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Wait this long before answering (on top of `latencyMs`). */
  delayMs?: number;
  /** Close the connection without answering (the client sees a reset). */
  drop?: boolean;
}

export type Responder = (
  req: RecordedRequest,
) => ScriptedResponse | undefined | Promise<ScriptedResponse | undefined>;

export interface Overlap {
  key: string;
  at: number;
  /** The sequence numbers of the requests in flight for the key at that moment. */
  seqs: number[];
}

export interface FakeTagApiOptions {
  /** Fixed delay before every answer. */
  latencyMs?: number;
  /** Token bucket: above `perSecond` (bursts up to `burst`, default perSecond) answers 429 with Retry-After. */
  rateLimit?: { perSecond: number; burst?: number };
  /** Groups requests for overlap detection (e.g. tag + user); undefined leaves a request out. */
  keyOf?: (req: RecordedRequest) => string | undefined;
  /** Answers requests that no scripted answer matched. */
  responder?: Responder;
  /** The body of the 429s the rate limiter sends (each API has its own error shape). */
  errorBody?: (status: number, message: string) => unknown;
}

type Matcher = (req: RecordedRequest) => boolean;
type WaitCondition = number | ((requests: readonly RecordedRequest[]) => boolean);

export class FakeTagApi {
  readonly requests: RecordedRequest[] = [];
  readonly overlaps: Overlap[] = [];
  /** The largest number of requests in flight at once. */
  maxInFlight = 0;
  /** TCP connections accepted so far (keep-alive clients reuse them). */
  connectionCount = 0;
  private inFlight = 0;
  private readonly inFlightByKey = new Map<string, Set<number>>();
  private readonly scripted: { match: Matcher; response: ScriptedResponse }[] = [];
  private readonly events = new EventEmitter();
  private readonly timers = new Set<NodeJS.Timeout>();
  private bucket: TokenBucket | undefined;
  private responder: Responder | undefined;
  private constructor(
    private readonly server: http.Server,
    readonly url: string,
    private readonly opts: FakeTagApiOptions,
  ) {
    this.responder = opts.responder;
    this.events.setMaxListeners(0);
    server.on('connection', () => (this.connectionCount += 1));
  }

  static async start(opts: FakeTagApiOptions = {}): Promise<FakeTagApi> {
    let api: FakeTagApi | undefined;
    const server = http.createServer((req, res) => void api?.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    api = new FakeTagApi(server, `http://127.0.0.1:${port}`, opts);
    return api;
  }

  /** The next requests (any) get these answers, in order. */
  enqueue(...responses: ScriptedResponse[]): this {
    return this.enqueueFor(() => true, ...responses);
  }

  /** The next requests that `match` get these answers, in order. */
  enqueueFor(match: Matcher, ...responses: ScriptedResponse[]): this {
    for (const response of responses) this.scripted.push({ match, response });
    return this;
  }

  setResponder(responder: Responder | undefined): this {
    this.responder = responder;
    return this;
  }

  /** The responder in force (e.g. the MantaGo simulation), to put back after a test replaced it. */
  get currentResponder(): Responder | undefined {
    return this.responder;
  }

  /** How many requests are in flight right now. */
  get inFlightCount(): number {
    return this.inFlight;
  }

  /**
   * Resolves with all requests so far once `condition` holds: a number counts requests
   * that have ended (answered, dropped or abandoned); a predicate is checked on every arrival and
   * every end. Rejects after `timeoutMs` saying what was seen.
   */
  waitFor(condition: WaitCondition, timeoutMs = 5000): Promise<RecordedRequest[]> {
    const holds = () =>
      typeof condition === 'number'
        ? this.requests.filter((r) => r.finishedAt !== undefined).length >= condition
        : condition(this.requests);
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!holds()) return;
        cleanup();
        resolve([...this.requests]);
      };
      const timer = setTimeout(() => {
        cleanup();
        const seen = this.requests.map(
          (r) => `${r.method} ${r.path} → ${r.dropped ? 'dropped' : r.abandoned ? 'abandoned' : (r.status ?? 'in flight')}`,
        );
        reject(new Error(`fake tag API: condition not met within ${timeoutMs} ms; ${seen.length} request(s): ${seen.join(', ')}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.events.off('change', check);
      };
      this.events.on('change', check);
      check();
    });
  }

  /** Forgets requests, scripted answers, overlaps and the rate limiter's state. */
  reset(): void {
    this.requests.length = 0;
    this.overlaps.length = 0;
    this.scripted.length = 0;
    this.maxInFlight = this.inFlight;
    this.bucket = undefined;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://fake');
    const rec: RecordedRequest = {
      seq: this.requests.length + 1,
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      rawBody,
      body: parseJson(rawBody),
      receivedAt: Date.now(),
    };
    const key = this.opts.keyOf?.(rec);
    if (key !== undefined) rec.key = key;
    this.requests.push(rec);
    this.begin(rec);
    res.on('close', () => this.end(rec, res));
    this.events.emit('change');

    const answer = this.rateLimited(rec) ?? (await this.answerFor(rec));
    const delay = (this.opts.latencyMs ?? 0) + (answer.delayMs ?? 0);
    if (delay > 0) await this.sleep(delay);
    if (res.destroyed) return;
    if (answer.drop) {
      rec.dropped = true;
      req.socket.destroy();
      return;
    }
    const status = answer.status ?? 200;
    const body = answer.body === undefined ? { success: true } : answer.body;
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    rec.status = status;
    res.writeHead(status, { 'content-type': 'application/json', ...answer.headers });
    res.end(text);
  }

  private async answerFor(rec: RecordedRequest): Promise<ScriptedResponse> {
    const i = this.scripted.findIndex((s) => s.match(rec));
    if (i >= 0) return this.scripted.splice(i, 1)[0]!.response;
    return (await this.responder?.(rec)) ?? {};
  }

  private rateLimited(rec: RecordedRequest): ScriptedResponse | undefined {
    const limit = this.opts.rateLimit;
    if (!limit) return undefined;
    this.bucket ??= new TokenBucket(limit.perSecond, limit.burst);
    const waitSeconds = this.bucket.take();
    if (waitSeconds === 0) return undefined;
    rec.rateLimited = true;
    const message = `rate limit of ${limit.perSecond} requests per second exceeded`;
    return {
      status: 429,
      headers: { 'retry-after': String(waitSeconds) },
      body: this.opts.errorBody?.(429, message) ?? { success: false, message },
    };
  }

  private begin(rec: RecordedRequest): void {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    if (rec.key === undefined) return;
    const set = this.inFlightByKey.get(rec.key) ?? new Set<number>();
    set.add(rec.seq);
    this.inFlightByKey.set(rec.key, set);
    if (set.size > 1) this.overlaps.push({ key: rec.key, at: rec.receivedAt, seqs: [...set] });
  }

  private end(rec: RecordedRequest, res: ServerResponse): void {
    if (rec.finishedAt !== undefined) return;
    rec.finishedAt = Date.now();
    if (!res.writableFinished) {
      if (!rec.dropped) rec.abandoned = true;
      delete rec.status;
    }
    this.inFlight -= 1;
    if (rec.key !== undefined) {
      const set = this.inFlightByKey.get(rec.key);
      set?.delete(rec.seq);
      if (set && set.size === 0) this.inFlightByKey.delete(rec.key);
    }
    this.events.emit('change');
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }
}

export function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
