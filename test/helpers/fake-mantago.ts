import { randomBytes } from 'node:crypto';
import { FakeTagApi, type FakeTagApiOptions, type RecordedRequest, type ScriptedResponse } from './fake-tag-server';
import { makeJwt } from './fake-jwt';

/**
 * A fake MantaGo OpenAPI (https://doc.mantago.cc): personal tag mapping add/delete,
 * client tag mapping add, and the token endpoint. It keeps the tags per user, so a test
 * can assert on the end state, and it rotates the token pair like MantaGo does: once
 * `/openapi/token` issued a new pair, the old one answers 401.
 *
 * Use `fake.baseUrl` (the server URL plus `/api`, as in MANTAGO_BASE_URL's default).
 */

export interface FakeMantagoOptions extends Omit<FakeTagApiOptions, 'responder' | 'errorBody'> {
  /** Requests must carry `?botId=` with this value (default `bot-test`). */
  botId?: string;
  /** The pair in force at start; default: a fresh JWT valid for `tokenTtlMs` and a random secret. */
  token?: string;
  secret?: string;
  /** Lifetime of issued tokens (MantaGo: 30 days). */
  tokenTtlMs?: number;
  /** The fake's clock for `exp` checks. */
  now?: () => number;
}

const PLATFORMS = new Set(['line', 'facebook', 'instagram', 'liveChat', 'whatsapp']);
const MAPPING_PATHS = new Set(['/openapi/personalTagMapping', '/openapi/personalTagMapping/delete', '/openapi/clientTagMapping']);

export function mantagoError(status: number, message: string): { success: false; errResponse: { message: string; code: number } } {
  return { success: false, errResponse: { message, code: status } };
}

export class FakeMantago {
  readonly botId: string;
  token: string;
  secret: string;
  /** Every pair issued by the token endpoint, oldest first. */
  readonly issued: { token: string; secret: string }[] = [];
  /** platformClientIds MantaGo does not know yet: their mapping calls answer 404. */
  readonly unknownClients = new Set<string>();
  private readonly personal = new Map<string, Set<string>>();
  private readonly client = new Map<string, Set<string>>();
  private readonly now: () => number;
  private readonly tokenTtlMs: number;

  private constructor(readonly api: FakeTagApi, opts: FakeMantagoOptions) {
    this.botId = opts.botId ?? 'bot-test';
    this.now = opts.now ?? Date.now;
    this.tokenTtlMs = opts.tokenTtlMs ?? 30 * 24 * 3600_000;
    this.token = opts.token ?? this.newToken();
    this.secret = opts.secret ?? newSecret();
  }

  static async start(opts: FakeMantagoOptions = {}): Promise<FakeMantago> {
    let fake: FakeMantago | undefined;
    const api = await FakeTagApi.start({
      keyOf: mappingKey,
      ...opts,
      errorBody: mantagoError,
      responder: (req) => fake!.respond(req),
    });
    fake = new FakeMantago(api, opts);
    return fake;
  }

  get url(): string {
    return this.api.url;
  }

  get baseUrl(): string {
    return `${this.api.url}/api`;
  }

  get requests(): RecordedRequest[] {
    return this.api.requests;
  }

  /** Requests to the tag mapping endpoints (not the token endpoint). */
  get tagRequests(): RecordedRequest[] {
    return this.api.requests.filter((r) => MAPPING_PATHS.has(openapiPath(r)));
  }

  get tokenRequests(): RecordedRequest[] {
    return this.api.requests.filter((r) => openapiPath(r) === '/openapi/token');
  }

  personalTagsOf(platform: string, platformClientId: string): string[] {
    return [...(this.personal.get(`${platform}:${platformClientId}`) ?? [])].sort();
  }

  clientTagsOf(platform: string, platformClientId: string): string[] {
    return [...(this.client.get(`${platform}:${platformClientId}`) ?? [])].sort();
  }

  /** Replaces the pair in force, as the MantaGo dashboard's Refresh button does. */
  setPair(token: string, secret: string): void {
    this.token = token;
    this.secret = secret;
  }

  close(): Promise<void> {
    return this.api.close();
  }

  private newToken(): string {
    const now = this.now();
    return makeJwt(
      { botId: this.botId, iat: Math.floor(now / 1000), exp: Math.floor((now + this.tokenTtlMs) / 1000), jti: newSecret() },
      'fake-mantago-signing-key',
    );
  }

  private respond(req: RecordedRequest): ScriptedResponse {
    const path = openapiPath(req);
    const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
    if (req.method !== 'POST' || (path !== '/openapi/token' && !MAPPING_PATHS.has(path))) {
      return { status: 404, body: mantagoError(404, `no route ${req.method} ${req.path}`) };
    }
    if (req.query.botId !== this.botId) return { status: 404, body: mantagoError(404, 'OpenAPI configuration not found') };
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    // The token endpoint takes the current pair even when the JWT has expired (that is its purpose).
    const expired = path !== '/openapi/token' && this.isExpired(bearer);
    if (bearer !== this.token || body.secret !== this.secret || expired) {
      return { status: 401, body: mantagoError(401, 'JWT token is invalid or expired') };
    }
    if (path === '/openapi/token') {
      this.token = this.newToken();
      this.secret = newSecret();
      this.issued.push({ token: this.token, secret: this.secret });
      return { body: { success: true, message: 'Operation completed successfully', apiToken: this.token, apiSecret: this.secret } };
    }
    const { tagId, platform, platformClientId } = body;
    if (typeof tagId !== 'string' || !tagId || typeof platformClientId !== 'string' || !platformClientId || typeof platform !== 'string' || !PLATFORMS.has(platform)) {
      return { status: 400, body: mantagoError(400, 'tagId, platform and platformClientId are required') };
    }
    if (this.unknownClients.has(platformClientId)) return { status: 404, body: mantagoError(404, 'client not found') };
    const user = `${platform}:${platformClientId}`;
    const table = path === '/openapi/clientTagMapping' ? this.client : this.personal;
    const tags = table.get(user) ?? new Set<string>();
    if (path.endsWith('/delete')) tags.delete(tagId);
    else tags.add(tagId);
    table.set(user, tags);
    return { body: { success: true, message: 'Operation completed successfully' } };
  }

  private isExpired(token: string | undefined): boolean {
    const payload = token?.split('.')[1];
    if (!payload) return false;
    try {
      const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
      return typeof exp === 'number' && exp * 1000 <= this.now();
    } catch {
      return false;
    }
  }
}

/** The path below MantaGo's `/api` prefix (the fake answers with or without it). */
function openapiPath(req: RecordedRequest): string {
  return req.path.startsWith('/api/') ? req.path.slice(4) : req.path;
}

/** One key per (tag table, tag, user): what must never be in flight twice at once. */
function mappingKey(req: RecordedRequest): string | undefined {
  const path = openapiPath(req);
  if (!MAPPING_PATHS.has(path)) return undefined;
  const b = (req.body ?? {}) as Record<string, unknown>;
  const table = path === '/openapi/clientTagMapping' ? 'client' : 'personal';
  return `${table}:${String(b.tagId)}:${String(b.platform)}:${String(b.platformClientId)}`;
}

function newSecret(): string {
  return randomBytes(12).toString('hex');
}

export function startFakeMantago(opts: FakeMantagoOptions = {}): Promise<FakeMantago> {
  return FakeMantago.start(opts);
}
