import type { ConfiguredAccount, ConfiguredEndpoint } from './channels/configured';
import type { ChannelsFile } from './channels/definitions';
import type { UnsetVariables } from './channels/parse-channels-file';
import type { LOG_LEVELS } from './config';
import type { ProviderSettings } from './providers';
import type { DatabaseTlsEnv } from './store/postgres/tls-settings';

/** The configuration `loadConfig` (config.ts) reads from the environment, and how it is asked to read it. */
export interface Config {
  port: number;
  rulesDir: string;
  databaseUrl: string | undefined;
  dataDir: string;
  logLevel: (typeof LOG_LEVELS)[number];
  maxBodyBytes: number;
  /** Default 64 MiB, or MAX_BODY_BYTES when that is more (webhook/read-body.ts). */
  maxUnverifiedBytes: number;
  retry: { minMs: number; maxMs: number; giveUpMs: number; notFoundTimes: number };
  forward: { giveUpMs: number; timeoutMs: number; concurrency: number };
  /** The webhook endpoints — one per channel: the environment's, in the order of the endpoint list, then the channels file's. */
  endpoints: readonly ConfiguredEndpoint[];
  /** The accounts tags go to: the environment's (one per provider, named after it, configured or not), then the channels file's. */
  accounts: readonly ConfiguredAccount[];
  /** The channels file in force, if there is one. */
  channelsFile: ChannelsFile | undefined;
  /** Its problems, when it was left out for them (`channelsFileProblems: 'leave-out'`). */
  channelsFileLeftOut?: readonly string[];
  /** What is not an error but worth saying at start (unset variables when they are allowed). */
  warnings: readonly string[];
  leaseMs: number;
  tagApiTimeoutMs: number;
  /** PROVIDER_CONCURRENCY; undefined: adaptive (8, growing to 32 while the API keeps up). */
  providerConcurrency: number | undefined;
  /** PROVIDER_CALLERS (PostgreSQL): `one` instance at a time calls each account, or `every` instance calls every account. */
  providerCallers: ProviderCallers;
  adminToken: string | undefined;
  trustProxyHops: number;
  /** When set, /metrics wants `Authorization: Bearer <metricsToken>`. */
  metricsToken: string | undefined;
  history: { storeText: boolean; retentionDays: number };
  /** Each provider's settings, read by its descriptor. */
  providers: ProviderSettings;
  database: { poolSize: number; connectTimeoutMs: number; statementTimeoutMs: number; schema: string | undefined; tls: DatabaseTlsEnv };
  dyno: string | undefined;
  render: string | undefined;
}

export interface LoadConfigOptions {
  /** Where `./channels.yaml` and a relative CHANNELS_FILE are looked for; default the working directory. */
  cwd?: string;
  /**
   * An unset `${VARIABLE}` in the channels file: an error (`serve`, the default) or a
   * warning (commands that need no secrets: `status`, `history`, `dead-letters`, …).
   */
  unsetVariables?: UnsetVariables;
  /**
   * The checks only a service needs: RULES_DIR is a folder, and no provider is partly
   * configured (config-checks.ts). Default: when unset variables are an error (`serve`);
   * the commands that look at the store or call one provider need neither.
   */
  serveChecks?: boolean;
  /**
   * A channels file with problems: an error (default), or left out with its problems in
   * `channelsFileLeftOut` (commands that need only the store, or only the environment's
   * accounts: an operator can still look at the queue while a broken file keeps `serve` down).
   */
  channelsFileProblems?: 'error' | 'leave-out';
}

export const PROVIDER_CALLERS = ['one', 'every'] as const;
export type ProviderCallers = (typeof PROVIDER_CALLERS)[number];
