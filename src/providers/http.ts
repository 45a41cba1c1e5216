import { Agent, request, type Dispatcher } from 'undici';
import { bodyStopReason, cutBodyNote, isTimeoutError, readAtMost } from './bounded-body';
import { TagApiError } from './errors';
import { redactSecrets } from './redact';
import { BACKSTOP_SLACK_MS, callDeadlineOf, setCallDeadline, type CallDeadlineError } from '../call-deadline';
import type { Provider } from '../tag-operation';

/**
 * The transport both tag API clients share: JSON over one keep-alive undici Agent
 * per client, and one deadline per call that covers connecting, the headers and the
 * whole body — so no call outlives the worker's lease (TAG_API_TIMEOUT_MS < LEASE_MS).
 * It never retries: the worker owns retries. Network failures and timeouts become a
 * retryable TagApiError; every HTTP answer, whatever its status, is returned as is, its
 * body read only up to MAX_ANSWER_BYTES (CONTRACT.md "Retries"): a longer one is cut there,
 * marked `truncated` and not parsed, and the answer is judged by its status like any other
 * (a 400 is not retried, a 429 or 5xx is, a 2xx is a success).
 */

export interface HttpClientOptions {
  provider: Provider;
  /** e.g. `https://mantago.cc/api`; paths are appended to it. */
  baseUrl: string;
  timeoutMs: number;
  /** Tests (or a proxy) may pass one; otherwise the client owns an Agent and closes it. */
  dispatcher?: Dispatcher;
  /** Values to strip from anything that ends up in an error (read on every call: they rotate). */
  secrets: () => readonly string[];
}

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

export interface JsonRequest {
  method: HttpMethod;
  /** Starts with `/`; appended to the base URL (which may carry a path such as `/api`). */
  path: string;
  query?: Record<string, string>;
  bearer: string;
  body?: unknown;
  /** Aborts the call from outside (the worker's lease: its call deadline, or a lost database session). */
  signal?: AbortSignal;
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The parsed body, or undefined when it is not JSON (or was cut). */
  json: unknown;
  /** The body was not read whole: it went on past MAX_ANSWER_BYTES, or `stopped`. `text` is its start. */
  truncated: boolean;
  /** Why the body ended before its end, when it did (the call's deadline, a reset); never on a 2xx. */
  stopped?: string;
}

/** What an error about `answer` adds when its body was not read whole ('' when it was). */
export function truncationNote(answer: HttpAnswer): string {
  return cutBodyNote(!answer.truncated, answer.stopped);
}

export interface HttpClient {
  send(req: JsonRequest): Promise<HttpAnswer>;
  /**
   * Ends the client. Calls still in flight are aborted: the service closes its clients only
   * after delivery stopped, which waited its grace for them and released their leases, so
   * their rows come back at the next start. (Waiting for them instead held a shutdown until
   * the 9 s hard exit whenever an API hung.)
   */
  close(): Promise<void>;
}

export function createHttpClient(opts: HttpClientOptions): HttpClient {
  const base = opts.baseUrl.replace(/\/+$/, '');
  const owned = opts.dispatcher === undefined;
  const dispatcher: Dispatcher =
    opts.dispatcher ??
    new Agent({
      keepAliveTimeout: 30_000,
      connections: 32,
      connect: { timeout: opts.timeoutMs },
      // Backstops only, later than the deadline below (the call's as a whole), so that they
      // never act before it (call-deadline.ts).
      headersTimeout: opts.timeoutMs + BACKSTOP_SLACK_MS,
      bodyTimeout: opts.timeoutMs + BACKSTOP_SLACK_MS,
    });
  let closed = false;

  async function send(req: JsonRequest): Promise<HttpAnswer> {
    if (closed) {
      // Only during shutdown: the operation stays queued and is tried again at the next start.
      throw new TagApiError({ provider: opts.provider, retryable: true, reason: `${opts.provider} client is closed` });
    }
    const url = new URL(base + req.path);
    for (const [k, v] of Object.entries(req.query ?? {})) url.searchParams.set(k, v);
    const headers: Record<string, string> = {
      accept: 'application/json',
      authorization: `Bearer ${req.bearer}`,
      'content-type': 'application/json',
    };
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    const controller = new AbortController();
    const abortedBefore = req.signal?.aborted === true;
    let timedOut = false;
    const deadline = setCallDeadline(() => {
      timedOut = true;
      controller.abort();
    }, opts.timeoutMs);
    const signal = req.signal ? AbortSignal.any([controller.signal, req.signal]) : controller.signal;
    try {
      const res = await request(url, { method: req.method, headers, body, signal, dispatcher });
      const read = await readAtMost(res.body);
      // A body that stopped before its end (the deadline, a reset) leaves the status standing —
      // a 400 is still a dead letter, a 401 still a refresh — except a success, whose body could
      // still have said otherwise (`"success": false`): that call failed, and is tried again. An
      // abort from outside (the lease lost, the service stopping) is one whatever the status
      // (below); the lease's call deadline is this call's timeout.
      const passed = timedOut ? undefined : callDeadlineOf(req.signal, abortedBefore);
      const fromOutside = !timedOut && passed === undefined && req.signal?.aborted === true;
      if (read.error !== undefined && (isSuccess(res.statusCode) || fromOutside)) throw read.error;
      const text = read.bytes.toString('utf8');
      const stopped = read.error === undefined ? {} : { stopped: passed ? `no more of it before ${passed.message}` : redactSecrets(bodyStopReason(read.error, timedOut, `${opts.timeoutMs} ms`), opts.secrets()) };
      return { status: res.statusCode, headers: res.headers, text, json: read.complete ? parseJson(text) : undefined, truncated: !read.complete, ...stopped };
    } catch (err) {
      if (err instanceof TagApiError) throw err;
      if (!timedOut && req.signal?.aborted) {
        // The lease's call deadline (TAG_API_TIMEOUT_MS after the claim) ending a call under way
        // is the call's timeout, usually a moment before the client's own (started later).
        const passed = callDeadlineOf(req.signal, abortedBefore);
        if (passed) throw callDeadlineTimeout(opts, req, passed);
        throw abandonedError(opts, req, req.signal.reason);
      }
      throw transportError(opts, req, err, timedOut);
    } finally {
      deadline.clear();
    }
  }

  return {
    send,
    async close() {
      if (closed) return;
      closed = true;
      if (owned) await dispatcher.destroy();
    },
  };
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function callDeadlineTimeout(opts: HttpClientOptions, req: JsonRequest, reason: CallDeadlineError): TagApiError {
  return new TagApiError({
    provider: opts.provider,
    retryable: true,
    reason: `timeout from ${opts.provider} (${req.method} ${req.path}): no answer before ${reason.message}`,
    cause: reason,
  });
}

/** Aborted by the caller: worth another attempt (by whoever holds the operation next). */
function abandonedError(opts: HttpClientOptions, req: JsonRequest, reason: unknown): TagApiError {
  const why = reason instanceof Error ? reason.message : String(reason);
  return new TagApiError({
    provider: opts.provider,
    retryable: true,
    reason: `${opts.provider} call abandoned (${req.method} ${req.path}): ${redactSecrets(why, opts.secrets())}`,
    cause: reason,
  });
}

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

function transportError(opts: HttpClientOptions, req: JsonRequest, err: unknown, timedOut: boolean): TagApiError {
  const where = `${req.method} ${req.path}`;
  if (isTimeoutError(err, timedOut)) {
    return new TagApiError({
      provider: opts.provider,
      retryable: true,
      reason: `timeout from ${opts.provider} after ${opts.timeoutMs} ms (${where})`,
      cause: err,
    });
  }
  const code = err instanceof Error ? (err as { code?: string }).code : undefined;
  const message = err instanceof Error ? err.message : String(err);
  const detail = redactSecrets([code, message].filter(Boolean).join(' '), opts.secrets());
  return new TagApiError({
    provider: opts.provider,
    retryable: true,
    reason: `network error from ${opts.provider} (${where}): ${detail}`,
    cause: err,
  });
}
