import type { Provider } from '../tag-operation';

export interface TagApiErrorInit {
  provider: Provider;
  reason: string;
  retryable: boolean;
  status?: number;
  code?: string;
  retryAfterMs?: number;
  notFound?: boolean;
  bodyExcerpt?: string;
  cause?: unknown;
}

/**
 * The one error every tag API call throws. The worker decides what to do from the
 * fields alone (retry now, retry later, dead letter), never from the message text.
 * `reason` (also the message) is one secret-free line for a dead letter or a log.
 */
export class TagApiError extends Error {
  readonly provider: Provider;
  /** HTTP status; undefined for a network error or a timeout. */
  readonly status?: number;
  /** The provider's own error code (MantaGo `errResponse.code`, BotBonnie `errorCode`). */
  readonly code?: string;
  /** Whether calling again later can help. */
  readonly retryable: boolean;
  /** From `Retry-After` (seconds or an HTTP date), when the answer carried one. */
  readonly retryAfterMs?: number;
  /** MantaGo 404: the client is not known to MantaGo yet (retried a bounded number of times). */
  readonly notFound: boolean;
  /** The first ~300 characters of the response body, secrets removed. */
  readonly bodyExcerpt?: string;
  readonly reason: string;

  constructor(init: TagApiErrorInit) {
    super(init.reason);
    this.name = 'TagApiError';
    this.provider = init.provider;
    this.reason = init.reason;
    this.retryable = init.retryable;
    this.notFound = init.notFound ?? false;
    if (init.status !== undefined) this.status = init.status;
    if (init.code !== undefined) this.code = init.code;
    if (init.retryAfterMs !== undefined) this.retryAfterMs = init.retryAfterMs;
    if (init.bodyExcerpt !== undefined) this.bodyExcerpt = init.bodyExcerpt;
    // The cause is kept off the enumerable fields so a logged error never drags a request object along.
    if (init.cause !== undefined) Object.defineProperty(this, 'cause', { value: init.cause, enumerable: false });
  }
}

/** Copies an error with some fields changed (e.g. the reason after a failed token refresh). */
export function withChanges(err: TagApiError, changes: Partial<TagApiErrorInit>): TagApiError {
  const init: TagApiErrorInit = {
    provider: err.provider,
    reason: err.reason,
    retryable: err.retryable,
    notFound: err.notFound,
    ...(err.status !== undefined ? { status: err.status } : {}),
    ...(err.code !== undefined ? { code: err.code } : {}),
    ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}),
    ...(err.bodyExcerpt !== undefined ? { bodyExcerpt: err.bodyExcerpt } : {}),
    cause: err,
  };
  return new TagApiError({ ...init, ...changes });
}
