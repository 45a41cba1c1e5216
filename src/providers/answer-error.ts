import { fieldsOfCutObject } from './cut-object';
import { TagApiError } from './errors';
import { truncationNote, type HttpAnswer } from './http';
import { bodyExcerpt, redactSecrets } from './redact';
import { parseRetryAfter } from './retry-after';
import type { Provider } from '../tag-operation';

/** What a provider's error body said, in its own words (MantaGo `errResponse`, BotBonnie `errorMessage`/`errorCode`). */
export interface ProviderFailure {
  code?: string;
  message?: string;
}

export interface AnswerErrorOptions {
  provider: Provider;
  secrets: readonly string[];
  /** MantaGo's 404 means "client not known yet" and is worth a bounded number of retries. */
  notFoundRetryable: boolean;
  now?: number;
}

/**
 * Turns an answer that is not a success into a TagApiError, following CONTRACT.md
 * "Delivery promises": 408, 429 and 5xx are retried (honouring Retry-After), MantaGo's
 * 404 is retried a bounded number of times (the worker counts), every other status —
 * and a 2xx whose body reports a failure — is not.
 */
export function errorFromAnswer(answer: HttpAnswer, failure: ProviderFailure, opts: AnswerErrorOptions): TagApiError {
  const { status } = answer;
  const ok = status >= 200 && status < 300;
  const notFound = status === 404 && opts.notFoundRetryable;
  // 408 is the server saying our request timed out: a timeout, which the contract retries.
  const retryable = !ok && (status === 408 || status === 429 || status >= 500 || notFound);
  const retryAfterMs = parseRetryAfter(answer.headers['retry-after'], opts.now ?? Date.now());
  const codePart = failure.code !== undefined ? ` (code ${failure.code})` : '';
  const what = ok ? `${status} from ${opts.provider} reporting failure` : `${status} from ${opts.provider}`;
  const message = failure.message ?? (ok ? 'the body reports failure' : statusText(status));
  const reason = redactSecrets(`${what}${codePart}: ${oneLine(message)}${truncationNote(answer)}`, opts.secrets);
  const excerpt = bodyExcerpt(answer.text, opts.secrets);
  return new TagApiError({
    provider: opts.provider,
    status,
    retryable,
    notFound,
    reason,
    ...(failure.code !== undefined ? { code: failure.code } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    ...(excerpt !== undefined ? { bodyExcerpt: excerpt } : {}),
  });
}

/**
 * What an answer's body says, as an object: parsed whole, or — cut at 64 KiB — its top-level
 * fields read before the cut (cut-object.ts), so that a long 2xx that starts by saying
 * `"success": false` is the failure it says it is. Undefined when the body is not a JSON object.
 */
export function bodyFields(answer: HttpAnswer): Record<string, unknown> | undefined {
  if (isRecord(answer.json)) return answer.json;
  return answer.truncated && answer.stopped === undefined ? fieldsOfCutObject(answer.text) : undefined;
}

/** A provider error code as a string, whatever JSON type it came in. */
export function codeOf(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

function statusText(status: number): string {
  const known: Record<number, string> = {
    400: 'bad request',
    401: 'unauthorized',
    403: 'forbidden',
    404: 'not found',
    408: 'request timeout',
    409: 'conflict',
    422: 'unprocessable entity',
    429: 'too many requests',
    500: 'internal server error',
    502: 'bad gateway',
    503: 'service unavailable',
    504: 'gateway timeout',
  };
  return known[status] ?? (status >= 300 && status < 400 ? 'unexpected redirect' : 'unexpected status');
}
