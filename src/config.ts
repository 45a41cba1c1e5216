import path from 'node:path';
import { z } from 'zod';
import { partlyConfiguredProblems, rulesDirProblem } from './config-checks';
import { resolveDependent } from './config-dependent';
import { PROVIDER_CALLERS, type Config, type LoadConfigOptions, type ProviderCallers } from './config-types';
import { flag, int, isDatabaseUrl, MAX_TIMER_MS, optionalInt, optionalString, timerLimits, urlList, variableProblems } from './env-values';
import { fileAccounts, fileEndpoints, type ConfiguredAccount, type ConfiguredEndpoint } from './channels/configured';
import { CHANNELS_FILE_VARIABLE, loadChannelsFile } from './channels/load-channels';
import { ENVIRONMENT_ENDPOINTS } from './platforms/endpoints';
import { PROVIDER_DESCRIPTORS, providerSetups, type ProviderSettings } from './providers';
import { formatProblem } from './rules/problems';
import { DATABASE_SSL_VALUES, SSL_MODES, isSslMode, sslModeOfUrl, type DatabaseTlsEnv } from './store/postgres/tls-settings';

export type { ConfiguredAccount, ConfiguredEndpoint };
export type { Config, LoadConfigOptions } from './config-types';

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

const ADMIN_TOKEN_MIN_LENGTH = 16;
const DEFAULT_RULES_DIR = './rules';

export const LOG_LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const;

const envSchema = z.object({
  PORT: int(3000, 1, { max: 65535, hint: 'leave it unset for 3000 (Heroku and Render set PORT themselves)' }),
  RULES_DIR: z.string().optional().transform((v) => v?.trim() || DEFAULT_RULES_DIR),
  DATABASE_URL: optionalString
    .refine((v) => v === undefined || /^postgres(ql)?:\/\//i.test(v), 'must start with postgres:// or postgresql:// (leave it unset for the embedded SQLite store)')
    // Never quoted back: it holds the password.
    .refine((v) => v === undefined || !/^postgres(ql)?:\/\//i.test(v) || isDatabaseUrl(v), {
      message: 'is not a valid URL: postgres://USER:PASSWORD@HOST:PORT/DATABASE (the port a number up to 65535; characters such as @ : / # in the password written %40 %3A %2F %23)',
    }),
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
  SSL_CERT_FILE: optionalString,
  PGSSLCERT: optionalString,
  PGSSLKEY: optionalString,
  DATA_DIR: z.string().optional().transform((v) => v?.trim() || './data'),
  LOG_LEVEL: z
    .string()
    .optional()
    .transform((v, ctx): (typeof LOG_LEVELS)[number] => {
      const level = v?.trim().toLowerCase() || 'info';
      if ((LOG_LEVELS as readonly string[]).includes(level)) return level as (typeof LOG_LEVELS)[number];
      ctx.addIssue({ code: 'custom', message: `must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(v)}; leave it unset for info` });
      return z.NEVER;
    }),
  MAX_BODY_BYTES: int(4 * 1024 * 1024, 1),
  /** Bytes of webhook bodies held before their signature is checked, all connections together. */
  MAX_UNVERIFIED_BYTES: optionalInt(1),
  RETRY_MIN_MS: optionalInt(1, timerLimits),
  RETRY_MAX_MS: optionalInt(1, timerLimits),
  RETRY_GIVE_UP_MS: int(86_400_000, 0),
  RETRY_404_TIMES: int(10, 0),
  FORWARD_GIVE_UP_MS: int(60_000, 0),
  LEASE_MS: optionalInt(1000, timerLimits),
  FORWARD_TIMEOUT_MS: optionalInt(1, timerLimits),
  /** Timeout of one tag API call; below LEASE_MS (config-dependent.ts). */
  TAG_API_TIMEOUT_MS: optionalInt(1, timerLimits),
  /** Parallel calls per provider account; unset adapts (src/delivery/concurrency-limit.ts). */
  PROVIDER_CONCURRENCY: optionalInt(1),
  /** PostgreSQL: one instance at a time calls each provider account (`one`), or every instance calls every account. */
  PROVIDER_CALLERS: z
    .string()
    .optional()
    .transform((v) => v?.trim().toLowerCase() || 'one')
    .refine((v): v is ProviderCallers => (PROVIDER_CALLERS as readonly string[]).includes(v), {
      message: 'must be one (one instance at a time calls each provider account; the default) or every (every instance calls every account)',
    }),
  /** Parallel forwards per destination (different ordering keys). */
  FORWARD_CONCURRENCY: int(32, 1),
  /** Anyone who can reach /admin can guess at it (throttled, but still): too short a token is refused. */
  ADMIN_TOKEN: optionalString.refine((v) => v === undefined || [...v].length >= ADMIN_TOKEN_MIN_LENGTH, {
    message: `must be at least ${ADMIN_TOKEN_MIN_LENGTH} characters (or unset, which disables /admin); generate one with \`openssl rand -hex 24\``,
  }),
  /**
   * How many proxies in front append to X-Forwarded-For: the client address (logs, /admin
   * throttling) is the entry that many hops from the right — entries further left are
   * whatever the client chose to send. 1 on Heroku and Render; 0 when nothing is in front.
   */
  TRUST_PROXY_HOPS: int(1, 0),
  METRICS_TOKEN: optionalString,
  HISTORY_STORE_TEXT: flag,
  HISTORY_RETENTION_DAYS: int(30, 0),
  /** PostgreSQL pool size, connect timeout and per-statement timeout. */
  DATABASE_POOL_SIZE: int(10, 1),
  DATABASE_CONNECT_TIMEOUT_MS: int(5000, 1, timerLimits),
  // A silent server is given a second more than the timeout (postgres/db.ts: query_timeout).
  DATABASE_STATEMENT_TIMEOUT_MS: int(10_000, 1, { ...timerLimits, max: MAX_TIMER_MS - 1000 }),
  /** Heroku sets DYNO; used only to warn about SQLite on an ephemeral disk. */
  DYNO: optionalString,
  /** Render sets RENDER=true; used only to warn about SQLite outside a persistent disk (setup-status.ts). */
  RENDER: optionalString,
});

/**
 * The environment's variables of every endpoint (secrets, verify tokens, forward URLs),
 * as the endpoint list declares them: config names no platform.
 */
const endpointSchema = z.object(
  Object.fromEntries(
    ENVIRONMENT_ENDPOINTS.flatMap((e) => [
      ...[...e.secret, ...(e.verifyToken ?? [])].map((v) => [v, optionalString] as const),
      [e.forwardUrls, urlList] as const,
    ]),
  ),
);

/** Every environment variable the configuration reads (deploy files are checked against it). */
export const CONFIG_VARIABLES: readonly string[] = [
  ...Object.keys(envSchema.shape),
  ...Object.keys(endpointSchema.shape),
  ...PROVIDER_DESCRIPTORS.flatMap((d) => d.variables),
  CHANNELS_FILE_VARIABLE,
];

/** The variables whose values must fit each other (config-dependent.ts). */
const conflictSchema = envSchema.pick({
  LEASE_MS: true,
  TAG_API_TIMEOUT_MS: true,
  FORWARD_TIMEOUT_MS: true,
  RETRY_MIN_MS: true,
  RETRY_MAX_MS: true,
  MAX_BODY_BYTES: true,
  MAX_UNVERIFIED_BYTES: true,
});

export function loadConfig(env: NodeJS.ProcessEnv = process.env, opts: LoadConfigOptions = {}): Config {
  const parsed = envSchema.safeParse(env);
  const endpointVars = endpointSchema.safeParse(env);
  const problems: string[] = [];
  if (!parsed.success) problems.push(...variableProblems(parsed.error));
  if (!endpointVars.success) problems.push(...variableProblems(endpointVars.error));
  if (opts.serveChecks ?? (opts.unsetVariables ?? 'error') === 'error') {
    problems.push(...partlyConfiguredProblems(env));
    const rulesDir = rulesDirProblem(env.RULES_DIR, path.resolve(env.RULES_DIR?.trim() || DEFAULT_RULES_DIR));
    if (rulesDir) problems.push(rulesDir);
  }
  const providers: Record<string, unknown> = {};
  for (const d of PROVIDER_DESCRIPTORS) {
    const read = d.env.safeParse(env);
    if (read.success) providers[d.name] = read.data;
    else problems.push(...variableProblems(read.error));
  }
  // Read whatever else is wrong, so every problem is reported at once.
  const loadedChannels = loadChannelsFile(env, opts.cwd ?? process.cwd(), opts.unsetVariables ?? 'error');
  const leaveOut = opts.channelsFileProblems === 'leave-out' && loadedChannels.problems.length > 0;
  const channels = leaveOut ? { channels: undefined, problems: [], warnings: [] } : loadedChannels;
  problems.push(...channels.problems.map(formatProblem));
  // The conflicts between values too, whenever the values in them could be read: a bad PORT
  // beside RETRY_MAX_MS < RETRY_MIN_MS is two problems to fix, not one and then another.
  const conflictVars = conflictSchema.safeParse(env);
  if (conflictVars.success) problems.push(...resolveDependent(conflictVars.data).problems);
  if (!parsed.success || !endpointVars.success || problems.length) throw new ConfigError(problems);
  const e = parsed.data;
  const vars = endpointVars.data as Record<string, string | string[] | undefined>;
  const first = (chain: readonly string[] | undefined) => chain?.map((v) => vars[v] as string | undefined).find((v) => v !== undefined);
  const firstSet = (chain: readonly string[]) => chain.find((v) => vars[v] !== undefined);
  const endpoints = ENVIRONMENT_ENDPOINTS.map(
    (definition): ConfiguredEndpoint =>
      Object.freeze({
        definition,
        secret: first(definition.secret),
        secretVariable: firstSet(definition.secret),
        verifyToken: first(definition.verifyToken),
        verifyTokenVariable: definition.verifyToken && firstSet(definition.verifyToken),
        forwardUrls: (vars[definition.forwardUrls] as string[] | undefined) ?? [],
        source: 'environment',
        accounts: new Map(),
      }),
  );
  const accounts: ConfiguredAccount[] = providerSetups(providers as ProviderSettings).map((p) =>
    Object.freeze({ name: p.provider.name, provider: p.provider, settings: p.settings, configured: p.configured, source: 'environment' as const }),
  );
  if (channels.channels) {
    endpoints.push(...fileEndpoints(channels.channels));
    accounts.push(...fileAccounts(channels.channels));
  }
  const urlTls = e.DATABASE_URL ? sslModeOfUrl(e.DATABASE_URL) : {};
  if (urlTls.problem) problems.push(`DATABASE_URL: ${urlTls.problem}`);
  // Its conflicts were reported above.
  const { values: dependent } = resolveDependent(e);
  if (problems.length) throw new ConfigError(problems);

  return Object.freeze({
    port: e.PORT,
    rulesDir: path.resolve(e.RULES_DIR),
    databaseUrl: e.DATABASE_URL,
    dataDir: path.resolve(e.DATA_DIR),
    logLevel: e.LOG_LEVEL,
    maxBodyBytes: e.MAX_BODY_BYTES,
    maxUnverifiedBytes: dependent.maxUnverifiedBytes,
    retry: { minMs: dependent.retryMinMs, maxMs: dependent.retryMaxMs, giveUpMs: e.RETRY_GIVE_UP_MS, notFoundTimes: e.RETRY_404_TIMES },
    forward: {
      giveUpMs: e.FORWARD_GIVE_UP_MS,
      timeoutMs: dependent.forwardTimeoutMs,
      concurrency: e.FORWARD_CONCURRENCY,
    },
    endpoints,
    accounts,
    channelsFile: channels.channels,
    ...(leaveOut ? { channelsFileLeftOut: loadedChannels.problems.map(formatProblem) } : {}),
    warnings: channels.warnings.map(formatProblem),
    leaseMs: dependent.leaseMs,
    tagApiTimeoutMs: dependent.tagApiTimeoutMs,
    providerConcurrency: e.PROVIDER_CONCURRENCY,
    providerCallers: e.PROVIDER_CALLERS,
    adminToken: e.ADMIN_TOKEN,
    trustProxyHops: e.TRUST_PROXY_HOPS,
    metricsToken: e.METRICS_TOKEN,
    history: { storeText: e.HISTORY_STORE_TEXT, retentionDays: e.HISTORY_RETENTION_DAYS },
    // Each descriptor read its own provider's entry above.
    providers: providers as ProviderSettings,
    database: {
      poolSize: e.DATABASE_POOL_SIZE,
      connectTimeoutMs: e.DATABASE_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
      schema: e.DATABASE_SCHEMA,
      tls: {
        setting: e.DATABASE_SSL,
        pgSslMode: e.PGSSLMODE !== undefined && isSslMode(e.PGSSLMODE) ? e.PGSSLMODE : undefined,
        pgSslRootCert: e.PGSSLROOTCERT,
        sslCertFile: e.SSL_CERT_FILE,
        pgSslCert: e.PGSSLCERT,
        pgSslKey: e.PGSSLKEY,
      },
    },
    dyno: e.DYNO,
    render: e.RENDER,
  });
}

/** Every configured secret, for log redaction. */
export function secretsOf(config: Config): string[] {
  return [
    config.adminToken,
    config.metricsToken,
    ...config.endpoints.flatMap((e) => [e.secret, e.verifyToken]),
    ...config.accounts.flatMap((a) => a.provider.secrets(a.settings)),
    ...databasePasswords(config.databaseUrl),
  ].filter((s): s is string => typeof s === 'string' && s.length >= 4);
}

/** DATABASE_URL's password as written in the URL and decoded (an error or a log line may quote either). */
function databasePasswords(url: string | undefined): string[] {
  if (!url) return [];
  try {
    const raw = new URL(url).password;
    return raw ? [...new Set([raw, decodeURIComponent(raw)])] : [];
  } catch {
    return []; // refused at start with a message that never quotes it (config checks)
  }
}
