import path from 'node:path';
import { z } from 'zod';
import { DATABASE_SSL_VALUES, SSL_MODES, isSslMode, sslModeOfUrl, type DatabaseTlsEnv } from './store/postgres/tls-settings';

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

const int = (def: number, min = 0) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return def;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) {
        ctx.addIssue({ code: 'custom', message: `must be a whole number ≥ ${min}, got ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      return n;
    });

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
  /** PostgreSQL TLS (see store/postgres/tls-settings.ts); libpq's PGSSL* variables are honoured too. */
  DATABASE_SSL: z
    .string()
    .optional()
    .transform((v) => v?.trim().toLowerCase() || 'auto')
    .refine((v): v is DatabaseTlsEnv['setting'] => (DATABASE_SSL_VALUES as readonly string[]).includes(v), {
      message: `must be one of ${DATABASE_SSL_VALUES.join(', ')} (auto: TLS when the server offers it, without checking the certificate; verify: TLS with the certificate checked; off: no TLS)`,
    }),
  PGSSLMODE: optionalString.refine((v) => v === undefined || isSslMode(v), `must be one of ${SSL_MODES.join(', ')} (libpq's sslmode)`),
  PGSSLROOTCERT: optionalString,
  PGSSLCERT: optionalString,
  PGSSLKEY: optionalString,
  DATA_DIR: z.string().optional().transform((v) => v?.trim() || './data'),
  LOG_LEVEL: z
    .string()
    .optional()
    .transform((v) => v?.trim().toLowerCase() || 'info')
    .refine((v): v is (typeof LOG_LEVELS)[number] => (LOG_LEVELS as readonly string[]).includes(v), {
      message: `must be one of ${LOG_LEVELS.join(', ')}`,
    }),
  MAX_BODY_BYTES: int(4 * 1024 * 1024, 1),
  RETRY_MIN_MS: int(1000, 1),
  RETRY_MAX_MS: int(3_600_000, 1),
  RETRY_GIVE_UP_MS: int(86_400_000, 0),
  RETRY_404_TIMES: int(10, 0),
  FORWARD_GIVE_UP_MS: int(60_000, 0),
  LEASE_MS: int(30_000, 1000),
  FORWARD_TIMEOUT_MS: int(10_000, 1),
  /** Timeout of one tag API call; must stay below LEASE_MS. */
  TAG_API_TIMEOUT_MS: int(10_000, 1),
  /** Parallel calls per provider. */
  PROVIDER_CONCURRENCY: int(8, 1),
  /** Parallel forwards per destination (different ordering keys). */
  FORWARD_CONCURRENCY: int(8, 1),
  ADMIN_TOKEN: optionalString,
  METRICS_TOKEN: optionalString,
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

/** Every environment variable the configuration reads (deploy files are checked against it). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

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
  /** When set, /metrics wants `Authorization: Bearer <metricsToken>`. */
  metricsToken: string | undefined;
  history: { storeText: boolean; retentionDays: number };
  line: { channelSecret: string | undefined };
  facebook: { appSecret: string | undefined; verifyToken: string | undefined };
  mantago: { baseUrl: string; botId: string | undefined; token: string | undefined; secret: string | undefined };
  botbonnie: { baseUrl: string; token: string | undefined; botId: string | undefined; linePid: string | undefined };
  database: { poolSize: number; connectTimeoutMs: number; statementTimeoutMs: number; schema: string | undefined; tls: DatabaseTlsEnv };
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
  const problems: string[] = [];
  const urlTls = e.DATABASE_URL ? sslModeOfUrl(e.DATABASE_URL) : {};
  if (urlTls.problem) problems.push(`DATABASE_URL: ${urlTls.problem}`);
  if (e.RETRY_MAX_MS < e.RETRY_MIN_MS) problems.push(`RETRY_MAX_MS: must be ≥ RETRY_MIN_MS (${e.RETRY_MIN_MS})`);
  if (e.TAG_API_TIMEOUT_MS >= e.LEASE_MS)
    problems.push(`TAG_API_TIMEOUT_MS: must be shorter than LEASE_MS (${e.LEASE_MS}) so no call outlives its lease`);
  if (e.FORWARD_TIMEOUT_MS >= e.LEASE_MS)
    problems.push(`FORWARD_TIMEOUT_MS: must be shorter than LEASE_MS (${e.LEASE_MS}) so no call outlives its lease`);
  if (problems.length) throw new ConfigError(problems);

  return Object.freeze({
    port: e.PORT,
    rulesDir: path.resolve(e.RULES_DIR),
    databaseUrl: e.DATABASE_URL,
    dataDir: path.resolve(e.DATA_DIR),
    logLevel: e.LOG_LEVEL,
    maxBodyBytes: e.MAX_BODY_BYTES,
    retry: { minMs: e.RETRY_MIN_MS, maxMs: e.RETRY_MAX_MS, giveUpMs: e.RETRY_GIVE_UP_MS, notFoundTimes: e.RETRY_404_TIMES },
    forward: {
      giveUpMs: e.FORWARD_GIVE_UP_MS,
      timeoutMs: e.FORWARD_TIMEOUT_MS,
      concurrency: e.FORWARD_CONCURRENCY,
      line: e.LINE_FORWARD_URLS,
      facebook: e.FACEBOOK_FORWARD_URLS,
    },
    leaseMs: e.LEASE_MS,
    tagApiTimeoutMs: e.TAG_API_TIMEOUT_MS,
    providerConcurrency: e.PROVIDER_CONCURRENCY,
    adminToken: e.ADMIN_TOKEN,
    metricsToken: e.METRICS_TOKEN,
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
      tls: {
        setting: e.DATABASE_SSL,
        pgSslMode: e.PGSSLMODE !== undefined && isSslMode(e.PGSSLMODE) ? e.PGSSLMODE : undefined,
        pgSslRootCert: e.PGSSLROOTCERT,
        pgSslCert: e.PGSSLCERT,
        pgSslKey: e.PGSSLKEY,
      },
    },
    dyno: e.DYNO,
  });
}

/** Every configured secret, for log redaction. */
export function secretsOf(config: Config): string[] {
  return [
    config.adminToken,
    config.metricsToken,
    config.line.channelSecret,
    config.facebook.appSecret,
    config.facebook.verifyToken,
    config.mantago.token,
    config.mantago.secret,
    config.botbonnie.token,
  ].filter((s): s is string => typeof s === 'string' && s.length >= 4);
}
