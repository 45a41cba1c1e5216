import { randomBytes } from 'node:crypto';
import { FakeTagApi, type FakeTagApiOptions, type RecordedRequest, type ScriptedResponse } from './fake-tag-server';

/**
 * A fake BotBonnie API (https://docs.botbonnie.com/jiao-xue-fan-li/yong-hu-biao-qian):
 * user tag add/remove/list and tag create (autogen), get, delete. It keeps the tags and
 * which user carries which, so a test can assert on the end state. Every request must
 * carry `Authorization: Bearer <token>`; errors are `{errorMessage, errorCode}`.
 */

export interface FakeBotbonnieOptions extends Omit<FakeTagApiOptions, 'responder' | 'errorBody'> {
  /** Default `botbonnie-test-token`. */
  token?: string;
  /** Default `bot-test`; tag creation must name it. */
  botId?: string;
}

export interface FakeBotbonnieTag {
  id: string;
  name: string;
  botId: string;
  type: number;
  created: number;
  parentId?: string;
}

export function botbonnieError(status: number, message: string): { errorMessage: string; errorCode: number } {
  return { errorMessage: message, errorCode: status };
}

export class FakeBotbonnie {
  readonly token: string;
  readonly botId: string;
  readonly tags = new Map<string, FakeBotbonnieTag>();
  private readonly userTags = new Map<string, Set<string>>();

  private constructor(readonly api: FakeTagApi, opts: FakeBotbonnieOptions) {
    this.token = opts.token ?? 'botbonnie-test-token';
    this.botId = opts.botId ?? 'bot-test';
  }

  static async start(opts: FakeBotbonnieOptions = {}): Promise<FakeBotbonnie> {
    let fake: FakeBotbonnie | undefined;
    const api = await FakeTagApi.start({
      keyOf: userTagKey,
      ...opts,
      errorBody: botbonnieError,
      responder: (req) => fake!.respond(req),
    });
    fake = new FakeBotbonnie(api, opts);
    return fake;
  }

  /** BOTBONNIE_BASE_URL for the fake. */
  get baseUrl(): string {
    return this.api.url;
  }

  get requests(): RecordedRequest[] {
    return this.api.requests;
  }

  userTagsOf(botPid: string, botChannel: number, rawUid: string): string[] {
    return [...(this.userTags.get(userOf(botPid, botChannel, rawUid)) ?? [])].sort();
  }

  /** Puts a tag in place as if made in the BotBonnie console. */
  addTag(tag: Partial<FakeBotbonnieTag> & { id: string }): FakeBotbonnieTag {
    const full: FakeBotbonnieTag = { name: tag.id, botId: this.botId, type: 0, created: Date.now(), ...tag };
    this.tags.set(full.id, full);
    return full;
  }

  close(): Promise<void> {
    return this.api.close();
  }

  private respond(req: RecordedRequest): ScriptedResponse {
    if (req.headers.authorization !== `Bearer ${this.token}`) return fail(401, 'invalid api token');
    const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
    if (req.path === '/v1/api/user/tag') return this.userTag(req, body);
    if (req.path === '/v1/api/tag/autogen' && req.method === 'POST') return this.createTag(body);
    const m = /^\/v1\/api\/tag\/([^/]+)$/.exec(req.path);
    if (m && (req.method === 'GET' || req.method === 'DELETE')) {
      const id = decodeURIComponent(m[1]!);
      const tag = this.tags.get(id);
      if (!tag) return fail(404, `tag ${id} not found`);
      if (req.method === 'GET') return ok(tag);
      const deleted = this.deleteTree(id);
      return ok(deleted);
    }
    return fail(404, `no route ${req.method} ${req.path}`);
  }

  private userTag(req: RecordedRequest, body: Record<string, unknown>): ScriptedResponse {
    if (req.method === 'GET') {
      const { bot_raw_uid: uid, bot_pid: pid, bot_channel: channel } = req.query;
      if (!uid || !pid || (channel !== '0' && channel !== '1')) return fail(400, 'bot_raw_uid, bot_pid and bot_channel are required');
      const ids = [...(this.userTags.get(userOf(pid, Number(channel), uid)) ?? [])].sort();
      return ok(ids.map((id) => ({ id, name: this.tags.get(id)?.name ?? id })));
    }
    const { bot_tag_id: tagId, bot_raw_uid: uid, bot_pid: pid, bot_channel: channel } = body;
    if (typeof tagId !== 'string' || !tagId || typeof uid !== 'string' || !uid || typeof pid !== 'string' || !pid || (channel !== 0 && channel !== 1)) {
      return fail(400, 'bot_tag_id, bot_raw_uid, bot_pid and bot_channel (0 or 1) are required');
    }
    const user = userOf(pid, channel, uid);
    const set = this.userTags.get(user) ?? new Set<string>();
    if (req.method === 'POST') set.add(tagId);
    else if (req.method === 'DELETE') set.delete(tagId);
    else return fail(404, `no route ${req.method} ${req.path}`);
    this.userTags.set(user, set);
    return ok('ok');
  }

  private createTag(body: Record<string, unknown>): ScriptedResponse {
    const { botId, name, type, parentId } = body;
    if (botId !== this.botId) return fail(403, 'botId does not match the api token');
    if (typeof name !== 'string' || !name || (type !== 0 && type !== 1)) return fail(400, 'name and type (0 or 1) are required');
    if (parentId !== undefined && !this.tags.has(String(parentId))) return fail(400, `folder ${String(parentId)} not found`);
    const tag = this.addTag({
      id: `tag-${randomBytes(5).toString('hex')}`,
      name,
      type,
      ...(parentId !== undefined ? { parentId: String(parentId) } : {}),
    });
    return ok({ id: tag.id });
  }

  private deleteTree(id: string): string[] {
    const deleted = [id];
    this.tags.delete(id);
    for (const t of [...this.tags.values()]) if (t.parentId === id) deleted.push(...this.deleteTree(t.id));
    for (const set of this.userTags.values()) for (const d of deleted) set.delete(d);
    return deleted;
  }
}

function ok(res: unknown): ScriptedResponse {
  return { body: { res, status: 200 } };
}

function fail(status: number, message: string): ScriptedResponse {
  return { status, body: botbonnieError(status, message) };
}

function userOf(pid: string, channel: number, uid: string): string {
  return `${channel}:${pid}:${uid}`;
}

/** One key per (tag, user) for the user tag endpoints. */
function userTagKey(req: RecordedRequest): string | undefined {
  if (req.path !== '/v1/api/user/tag' || req.method === 'GET') return undefined;
  const b = (req.body ?? {}) as Record<string, unknown>;
  return `${String(b.bot_tag_id)}:${String(b.bot_channel)}:${String(b.bot_pid)}:${String(b.bot_raw_uid)}`;
}

export function startFakeBotbonnie(opts: FakeBotbonnieOptions = {}): Promise<FakeBotbonnie> {
  return FakeBotbonnie.start(opts);
}
