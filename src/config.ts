import path from 'node:path';
import { z } from 'zod';
import { resolveDependent } from './config-dependent';

/**
 * Configuration is read once, from the environment, validated and frozen.
 * A bad value stops the process with a message that names the variable.
 */

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/** A whole number, or undefined when unset: for variables whose default depends on another (config-dependent.ts). */
const optionalInt = (min = 0) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) {
        ctx.addIssue({ code: 'custom', message: `must be a whole number ≥ ${min}, got ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      return n;
    });

const int = (def: number, min = 0) => optionalInt(min).transform((n) => n ?? def);

const urlList = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v.trim() === '') return [] as string[];
    const urls = v.split(',').map((s) => s.trim()).filter(Boolean);
    for (const u of urls) {
      if (!/^https?:\/\//i.test(u) || !URL.canParse(u)) {
        ctx.addIssue({ code: 'custom', message: `${JSON.stringify(u)} is not an http(s) URL` });
        return z.NEVER;
      }
    }
    return urls;
  });

const baseUrl = (def: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const s = v === undefined || v.trim() === '' ? def : v.trim();
      if (!/^https?:\/\//i.test(s) || !URL.canParse(s)) {
        ctx.addIssue({ code: 'custom', message: `${JSON.stringify(s)} is not an http(s) URL` });
        return z.NEVER;
      }
      return s.replace(/\/+$/, '');
    });

const flag = z
  .string()
  .optional()
  .transform((v) => v !== undefined && ['1', 'true', 'yes', 'on'].includes(v.trim().toLowerCase()));

const ADMIN_TOKEN_MIN_LENGTH = 16;

const LOG_LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const;

const envSchema = z.object({
  PORT: int(3000, 0),
  RULES_DIR: z.string().optional().transform((v) => v?.trim() || './rules'),
  DATABASE_URL: optionalString.refine(
    (v) => v === undefined || /^postgres(ql)?:\/\//i.test(v),
    'must start with postgres:// or postgresql:// (leave it unset for the embedded SQLite store)',
  ),
  /** PostgreSQL only: keep every table in this schema (several deployments may share one database). */
  DATABASE_SCHEMA: optionalString.refine((v) => v === undefined || /^[a-z_][a-z0-9_]{0,39}$/.test(v), 'must be lower-case letters, digits and _ (at most 40 characters)'),
  DATA_DIR: z.string().optional().transform((v) => v?.trim() || './data'),
  LOG_LEVEL: z
    .string()
    .optional()
    .transform((v) => v?.trim().toLowerCase() || 'info')
    .refine((v): v is (typeof LOG_LEVELS)[number] => (LOG_LEVELS as readonly string[]).includes(v), {
      message: `must be one of ${LOG_LEVELS.join(', ')}`,
    }),
  MAX_BODY_BYTES: int(4 * 1024 * 1024, 1),
  RETRY_MIN_MS: optionalInt(1),
  RETRY_MAX_MS: optionalInt(1),
  RETRY_GIVE_UP_MS: int(86_400_000, 0),
  RETRY_404_TIMES: int(10, 0),
  FORWARD_GIVE_UP_MS: int(60_000, 0),
  LEASE_MS: optionalInt(1000),
  FORWARD_TIMEOUT_MS: optionalInt(1),
  /** Timeout of one tag API call; below LEASE_MS. */
  TAG_API_TIMEOUT_MS: optionalInt(1),
  /** Parallel calls per provider. */
  PROVIDER_CONCURRENCY: int(8, 1),
  /** Parallel forwards per destination (different ordering keys). */
  FORWARD_CONCURRENCY: int(8, 1),
  /** Anyone who can reach /admin can guess at it (throttled, but still): too short a token is refused. */
  ADMIN_TOKEN: optionalString.refine((v) => v === undefined || v.length >= ADMIN_TOKEN_MIN_LENGTH, {
    message: `must be at least ${ADMIN_TOKEN_MIN_LENGTH} characters (or unset, which disables /admin); generate one with \`openssl rand -hex 24\``,
  }),
  /**
   * How many proxies in front append to X-Forwarded-For: the client address (logs, /admin
   * throttling) is the entry that many hops from the right — entries further left are
   * whatever the client chose to send. 1 on Heroku and Render; 0 when nothing is in front.
   */
  TRUST_PROXY_HOPS: int(1, 0),
  HISTORY_STORE_TEXT: flag,
  HISTORY_RETENTION_DAYS: int(30, 0),
  LINE_CHANNEL_SECRET: optionalString,
  LINE_FORWARD_URLS: urlList,
  FACEBOOK_APP_SECRET: optionalString,
  FACEBOOK_VERIFY_TOKEN: optionalString,
  FACEBOOK_FORWARD_URLS: urlList,
  MANTAGO_BASE_URL: baseUrl('https://mantago.cc/api'),
  MANTAGO_BOT_ID: optionalString,
  MANTAGO_TOKEN: optionalString,
  MANTAGO_SECRET: optionalString,
  BOTBONNIE_BASE_URL: baseUrl('https://api.botbonnie.com'),
  BOTBONNIE_TOKEN: optionalString,
  BOTBONNIE_BOT_ID: optionalString,
  BOTBONNIE_LINE_PID: optionalString,
  /** PostgreSQL pool size, connect timeout and per-statement timeout. */
  DATABASE_POOL_SIZE: int(10, 1),
  DATABASE_CONNECT_TIMEOUT_MS: int(5000, 1),
  DATABASE_STATEMENT_TIMEOUT_MS: int(10_000, 1),
  /** Heroku sets DYNO; used only to warn about SQLite on an ephemeral disk. */
  DYNO: optionalString,
});

export interface Config {
  port: number;
  rulesDir: string;
  databaseUrl: string | undefined;
  dataDir: string;
  logLevel: (typeof LOG_LEVELS)[number];
  maxBodyBytes: number;
  retry: { minMs: number; maxMs: number; giveUpMs: number; notFoundTimes: number };
  forward: { giveUpMs: number; timeoutMs: number; concurrency: number; line: string[]; facebook: string[] };
  leaseMs: number;
  tagApiTimeoutMs: number;
  providerConcurrency: number;
  adminToken: string | undefined;
  trustProxyHops: number;
  history: { storeText: boolean; retentionDays: number };
  line: { channelSecret: string | undefined };
  facebook: { appSecret: string | undefined; verifyToken: string | undefined };
  mantago: { baseUrl: string; botId: string | undefined; token: string | undefined; secret: string | undefined };
  botbonnie: { baseUrl: string; token: string | undefined; botId: string | undefined; linePid: string | undefined };
  database: { poolSize: number; connectTimeoutMs: number; statementTimeoutMs: number; schema: string | undefined };
  dyno: string | undefined;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${i.path.join('.') || '(environment)'}: ${i.message}`),
    );
  }
  const e = parsed.data;
  const { values: dependent, problems } = resolveDependent(e);
  if (problems.length) throw new ConfigError(problems);

  return Object.freeze({
    port: e.PORT,
    rulesDir: path.resolve(e.RULES_DIR),
    databaseUrl: e.DATABASE_URL,
    dataDir: path.resolve(e.DATA_DIR),
    logLevel: e.LOG_LEVEL,
    maxBodyBytes: e.MAX_BODY_BYTES,
    retry: { minMs: dependent.retryMinMs, maxMs: dependent.retryMaxMs, giveUpMs: e.RETRY_GIVE_UP_MS, notFoundTimes: e.RETRY_404_TIMES },
    forward: {
      giveUpMs: e.FORWARD_GIVE_UP_MS,
      timeoutMs: dependent.forwardTimeoutMs,
      concurrency: e.FORWARD_CONCURRENCY,
      line: e.LINE_FORWARD_URLS,
      facebook: e.FACEBOOK_FORWARD_URLS,
    },
    leaseMs: dependent.leaseMs,
    tagApiTimeoutMs: dependent.tagApiTimeoutMs,
    providerConcurrency: e.PROVIDER_CONCURRENCY,
    adminToken: e.ADMIN_TOKEN,
    trustProxyHops: e.TRUST_PROXY_HOPS,
    history: { storeText: e.HISTORY_STORE_TEXT, retentionDays: e.HISTORY_RETENTION_DAYS },
    line: { channelSecret: e.LINE_CHANNEL_SECRET },
    facebook: { appSecret: e.FACEBOOK_APP_SECRET, verifyToken: e.FACEBOOK_VERIFY_TOKEN },
    mantago: { baseUrl: e.MANTAGO_BASE_URL, botId: e.MANTAGO_BOT_ID, token: e.MANTAGO_TOKEN, secret: e.MANTAGO_SECRET },
    botbonnie: {
      baseUrl: e.BOTBONNIE_BASE_URL,
      token: e.BOTBONNIE_TOKEN,
      botId: e.BOTBONNIE_BOT_ID,
      linePid: e.BOTBONNIE_LINE_PID,
    },
    database: {
      poolSize: e.DATABASE_POOL_SIZE,
      connectTimeoutMs: e.DATABASE_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
      schema: e.DATABASE_SCHEMA,
    },
    dyno: e.DYNO,
  });
}

/** Every configured secret, for log redaction. */
export function secretsOf(config: Config): string[] {
  return [
    config.adminToken,
    config.line.channelSecret,
    config.facebook.appSecret,
    config.facebook.verifyToken,
    config.mantago.token,
    config.mantago.secret,
    config.botbonnie.token,
  ].filter((s): s is string => typeof s === 'string' && s.length >= 4);
}
