import type { Dispatcher } from 'undici';
import type { Platform } from '../chat-event';
import { bodyFields, codeOf, errorFromAnswer, isRecord, type ProviderFailure } from './answer-error';
import { TagApiError } from './errors';
import { createHttpClient, truncationNote, type HttpAnswer } from './http';
import { bodyExcerpt } from './redact';

/**
 * MantaGo OpenAPI client (https://doc.mantago.cc — "Assign Personal Tag to User",
 * "Remove Personal Tag from User", "Assign Client Tag to User", "Open API Token與Secret Key換發").
 * Every call is `POST {base}/openapi/…?botId=…` with `Authorization: Bearer <token>` and the
 * secret in the JSON body. Errors are `{success:false, errResponse:{message, code}}`.
 * The credentials are passed per call because they rotate (see mantago-credentials.ts).
 */

export interface MantagoCreds {
  token: string;
  secret: string;
}

export interface MantagoTagRequest {
  tagId: string;
  platform: Platform;
  /** The user id on the platform (LINE userId, Meta sender id). */
  platformClientId: string;
}

export interface MantagoClient {
  /** `signal` aborts the call (the worker's lease; see HttpClient). */
  addPersonalTag(creds: MantagoCreds, req: MantagoTagRequest, signal?: AbortSignal): Promise<void>;
  removePersonalTag(creds: MantagoCreds, req: MantagoTagRequest, signal?: AbortSignal): Promise<void>;
  addClientTag(creds: MantagoCreds, req: MantagoTagRequest, signal?: AbortSignal): Promise<void>;
  /**
   * `POST /openapi/token?botId=…` with the current (even expired) token as Bearer and
   * `{secret}` as body; answers a new pair, after which the old pair no longer works.
   */
  refreshToken(creds: MantagoCreds): Promise<MantagoCreds>;
  close(): Promise<void>;
}

export interface MantagoClientOptions {
  baseUrl: string;
  /** MANTAGO_BOT_ID, sent as `?botId=`; MantaGo requires it (without it every call gets 404). */
  botId: string | undefined;
  timeoutMs: number;
  dispatcher?: Dispatcher;
}

export function createMantagoClient(opts: MantagoClientOptions): MantagoClient {
  // Every pair seen is kept as a secret to redact: an answer may echo an older one.
  const secrets = new Set<string>();
  const remember = (c: MantagoCreds) => {
    secrets.add(c.token);
    secrets.add(c.secret);
  };
  const http = createHttpClient({
    provider: 'mantago',
    baseUrl: opts.baseUrl,
    timeoutMs: opts.timeoutMs,
    secrets: () => [...secrets],
    ...(opts.dispatcher ? { dispatcher: opts.dispatcher } : {}),
  });

  async function call(path: string, creds: MantagoCreds, body: Record<string, string>, signal?: AbortSignal): Promise<HttpAnswer> {
    remember(creds);
    const query = opts.botId !== undefined ? { botId: opts.botId } : undefined;
    const answer = await http.send({ method: 'POST', path, bearer: creds.token, body, ...(query ? { query } : {}), ...(signal ? { signal } : {}) });
    const failure = failureOf(answer);
    if (failure) {
      throw errorFromAnswer(answer, failure, { provider: 'mantago', secrets: [...secrets], notFoundRetryable: true });
    }
    return answer;
  }

  // Field order follows CONTRACT.md: {"secret","tagId","platform","platformClientId"}.
  const mapping = (creds: MantagoCreds, req: MantagoTagRequest) => ({
    secret: creds.secret,
    tagId: req.tagId,
    platform: req.platform,
    platformClientId: req.platformClientId,
  });

  return {
    async addPersonalTag(creds, req, signal) {
      await call('/openapi/personalTagMapping', creds, mapping(creds, req), signal);
    },
    async removePersonalTag(creds, req, signal) {
      await call('/openapi/personalTagMapping/delete', creds, mapping(creds, req), signal);
    },
    async addClientTag(creds, req, signal) {
      await call('/openapi/clientTagMapping', creds, mapping(creds, req), signal);
    },
    // Never aborted from outside: a refresh MantaGo carried out while its answer was lost leaves no working pair.
    async refreshToken(creds) {
      const answer = await call('/openapi/token', creds, { secret: creds.secret });
      const json = answer.json;
      if (!isRecord(json) || typeof json.apiToken !== 'string' || typeof json.apiSecret !== 'string' || !json.apiToken || !json.apiSecret) {
        const excerpt = bodyExcerpt(answer.text, [...secrets]);
        throw new TagApiError({
          provider: 'mantago',
          status: answer.status,
          retryable: false,
          reason: `${answer.status} from mantago token refresh without apiToken/apiSecret in the answer${truncationNote(answer)}`,
          ...(excerpt !== undefined ? { bodyExcerpt: excerpt } : {}),
        });
      }
      const fresh = { token: json.apiToken, secret: json.apiSecret };
      remember(fresh);
      return fresh;
    },
    close: () => http.close(),
  };
}

/**
 * A failure, or undefined for a success. A 2xx is a success unless its body says
 * `"success": false` (the documented BasicSuccessResponse always carries `success`;
 * an empty 2xx body is taken as success since the docs describe no other shape) — before
 * the 64 KiB cut of a longer one too (bodyFields).
 */
function failureOf(answer: HttpAnswer): ProviderFailure | undefined {
  const json = bodyFields(answer);
  const err = isRecord(json) && isRecord(json.errResponse) ? json.errResponse : undefined;
  const failure: ProviderFailure = {};
  const code = codeOf(err?.code);
  if (code !== undefined) failure.code = code;
  const message = typeof err?.message === 'string' ? err.message : isRecord(json) && typeof json.message === 'string' ? json.message : undefined;
  if (message !== undefined) failure.message = message;
  const ok = answer.status >= 200 && answer.status < 300;
  if (!ok) return failure;
  return isRecord(json) && json.success === false ? failure : undefined;
}
