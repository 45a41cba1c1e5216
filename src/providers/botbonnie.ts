import type { Dispatcher } from 'undici';
import { bodyFields, codeOf, errorFromAnswer, isRecord, type ProviderFailure } from './answer-error';
import { TagApiError } from './errors';
import { createHttpClient, truncationNote, type HttpAnswer, type HttpMethod } from './http';
import { bodyExcerpt } from './redact';

/**
 * BotBonnie API client, after https://docs.botbonnie.com/jiao-xue-fan-li/yong-hu-biao-qian
 * ("用戶標籤"): user tag add/remove (`POST`/`DELETE /v1/api/user/tag`), the user's tags,
 * tag create (`POST /v1/api/tag/autogen`), get and delete (`/v1/api/tag/{tagId}`).
 * Successes are `{res, status: 200}`; errors are `{errorMessage, errorCode}`.
 */

/** `bot_channel`: 0 Facebook, 1 LINE (per the docs' 渠道代號). */
export type BotbonnieChannel = 0 | 1;

export interface BotbonnieUserTagRequest {
  bot_tag_id: string;
  /** The user's id on the platform, unencrypted (the docs' alternative `bot_uid` is not used). */
  bot_raw_uid: string;
  /** LINE: the bot's LINE id (BOTBONNIE_LINE_PID, else the webhook destination); Facebook: the page id. */
  bot_pid: string;
  bot_channel: BotbonnieChannel;
}

export interface BotbonnieUserRef {
  bot_raw_uid: string;
  bot_pid: string;
  bot_channel: BotbonnieChannel;
}

export interface BotbonnieUserTag {
  id: string;
  name?: string;
}

export interface BotbonnieTag {
  id: string;
  name?: string;
  botId?: string;
  /** 0 user tag, 1 tag folder. */
  type?: number;
  /** Milliseconds since the epoch. */
  created?: number;
}

export interface BotbonnieClient {
  /** `signal` aborts the call (the worker's lease; see HttpClient). */
  addUserTag(req: BotbonnieUserTagRequest, signal?: AbortSignal): Promise<void>;
  removeUserTag(req: BotbonnieUserTagRequest, signal?: AbortSignal): Promise<void>;
  listUserTags(user: BotbonnieUserRef): Promise<BotbonnieUserTag[]>;
  /** Creates a user tag (type 0), optionally inside a folder; needs the bot id. Resolves to the new tag id. */
  createTag(req: { name: string; folder?: string }): Promise<{ id: string }>;
  getTag(id: string): Promise<BotbonnieTag>;
  /** Deletes a tag (or a folder with everything in it); resolves to every id deleted. */
  deleteTag(id: string): Promise<string[]>;
  close(): Promise<void>;
}

export interface BotbonnieClientOptions {
  baseUrl: string;
  token: string;
  timeoutMs: number;
  /** BOTBONNIE_BOT_ID: only the tag administration endpoints need it. */
  botId?: string;
  dispatcher?: Dispatcher;
}

export function createBotbonnieClient(opts: BotbonnieClientOptions): BotbonnieClient {
  const secrets = [opts.token];
  const http = createHttpClient({
    provider: 'botbonnie',
    baseUrl: opts.baseUrl,
    timeoutMs: opts.timeoutMs,
    secrets: () => secrets,
    ...(opts.dispatcher ? { dispatcher: opts.dispatcher } : {}),
  });

  async function call(
    method: HttpMethod,
    path: string,
    extra: { body?: unknown; query?: Record<string, string>; signal?: AbortSignal } = {},
  ): Promise<HttpAnswer> {
    const answer = await http.send({ method, path, bearer: opts.token, ...extra });
    const failure = failureOf(answer);
    if (failure) throw errorFromAnswer(answer, failure, { provider: 'botbonnie', secrets, notFoundRetryable: false });
    return answer;
  }

  /** The `res` of a success, parsed when the API sends it as a JSON string (the docs show `"res": "{…}"` for autogen). */
  function resOf(answer: HttpAnswer): unknown {
    const res = isRecord(answer.json) ? answer.json.res : undefined;
    if (typeof res === 'string') {
      try {
        return JSON.parse(res) as unknown;
      } catch {
        return res;
      }
    }
    return res;
  }

  function unexpected(answer: HttpAnswer, what: string): TagApiError {
    const excerpt = bodyExcerpt(answer.text, secrets);
    return new TagApiError({
      provider: 'botbonnie',
      status: answer.status,
      retryable: false,
      reason: `${answer.status} from botbonnie without ${what} in the answer${truncationNote(answer)}`,
      ...(excerpt !== undefined ? { bodyExcerpt: excerpt } : {}),
    });
  }

  const userTagBody = (req: BotbonnieUserTagRequest) => ({
    bot_tag_id: req.bot_tag_id,
    bot_raw_uid: req.bot_raw_uid,
    bot_pid: req.bot_pid,
    bot_channel: req.bot_channel,
  });
  const tagPath = (id: string) => {
    // Resolved as a URL, "" and "." would name /v1/api/tag/ and ".." /v1/api/: another resource than one tag.
    if (id.trim() === '' || id === '.' || id === '..') {
      throw new TagApiError({ provider: 'botbonnie', retryable: false, reason: `${JSON.stringify(id)} is not a tag id` });
    }
    return `/v1/api/tag/${encodeURIComponent(id)}`;
  };

  return {
    async addUserTag(req, signal) {
      await call('POST', '/v1/api/user/tag', { body: userTagBody(req), ...(signal ? { signal } : {}) });
    },
    async removeUserTag(req, signal) {
      await call('DELETE', '/v1/api/user/tag', { body: userTagBody(req), ...(signal ? { signal } : {}) });
    },
    async listUserTags(user) {
      // Assumption: the docs' "查詢用戶身上的標籤" is a GET on the same resource, the user named
      // by query parameters, answering `res` as a list of tags (objects with id/name, or bare ids).
      const answer = await call('GET', '/v1/api/user/tag', {
        query: { bot_raw_uid: user.bot_raw_uid, bot_pid: user.bot_pid, bot_channel: String(user.bot_channel) },
      });
      const res = resOf(answer);
      const list = Array.isArray(res) ? res : isRecord(res) && Array.isArray(res.tags) ? res.tags : undefined;
      if (!list) throw unexpected(answer, 'a list of tags');
      return list.flatMap((t): BotbonnieUserTag[] => {
        if (typeof t === 'string') return [{ id: t }];
        if (isRecord(t) && typeof t.id === 'string') return [{ id: t.id, ...(typeof t.name === 'string' ? { name: t.name } : {}) }];
        return [];
      });
    },
    async createTag(req) {
      if (!opts.botId) throw new Error('BOTBONNIE_BOT_ID is not set: creating a BotBonnie tag needs the bot id');
      // `parentId` is documented as a Number, yet folder ids look like `tag-…`: it is sent as given.
      const body = { botId: opts.botId, name: req.name, type: 0, ...(req.folder !== undefined ? { parentId: req.folder } : {}) };
      const answer = await call('POST', '/v1/api/tag/autogen', { body });
      const res = resOf(answer);
      if (!isRecord(res) || typeof res.id !== 'string') throw unexpected(answer, 'the new tag id');
      return { id: res.id };
    },
    async getTag(id) {
      const answer = await call('GET', tagPath(id));
      const res = resOf(answer);
      if (!isRecord(res) || typeof res.id !== 'string') throw unexpected(answer, 'the tag');
      return {
        id: res.id,
        ...(typeof res.name === 'string' ? { name: res.name } : {}),
        ...(typeof res.botId === 'string' ? { botId: res.botId } : {}),
        ...(typeof res.type === 'number' ? { type: res.type } : {}),
        ...(typeof res.created === 'number' ? { created: res.created } : {}),
      };
    },
    async deleteTag(id) {
      const answer = await call('DELETE', tagPath(id));
      const res = resOf(answer);
      if (!Array.isArray(res)) throw unexpected(answer, 'the deleted ids');
      return res.filter((v): v is string => typeof v === 'string');
    },
    close: () => http.close(),
  };
}

/**
 * A failure, or undefined for a success. A 2xx is a failure when its body carries
 * `errorMessage`/`errorCode`, a `status` of 400 or more, or `"success": false`.
 */
function failureOf(answer: HttpAnswer): ProviderFailure | undefined {
  // Of a body longer than 64 KiB, what it says before the cut (bodyFields).
  const json = bodyFields(answer);
  const failure: ProviderFailure = {};
  const code = codeOf(json?.errorCode);
  if (code !== undefined) failure.code = code;
  if (typeof json?.errorMessage === 'string') failure.message = json.errorMessage;
  const ok = answer.status >= 200 && answer.status < 300;
  if (!ok) return failure;
  const bodyStatus = typeof json?.status === 'number' ? json.status : undefined;
  const failed =
    json !== undefined &&
    (json.errorMessage !== undefined || json.errorCode !== undefined || json.success === false || (bodyStatus !== undefined && bodyStatus >= 400));
  return failed ? failure : undefined;
}
