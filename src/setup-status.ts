import { channelsRoutedBy, type ConfiguredAccount, type ConfiguredEndpoint } from './channels/configured';
import type { Config } from './config';
import type { Logger } from './log';
import { channelKindTitle, notSet } from './platforms/endpoints';
import type { RuleSet } from './rules';
import { sqliteFileIn } from './store/sqlite-file';
import { tlsSettings } from './store/postgres/tls-settings';
import { exampleTagWarnings, unconfiguredProviderWarnings } from './rule-warnings';
import { diskWarnings, metricsTokenWarnings, sharedCredentialWarnings } from './setup-warnings';

export { EXAMPLE_TAG_PREFIX } from './rule-warnings';

/*
 * What is set up, as plain data: each webhook endpoint enabled or disabled and why,
 * each provider account configured or not, the store and where it is, the rules in
 * force, and what deserves a warning. `serve` logs it at start, one line per item
 * (`logSetupStatus`); the admin page's setup checklist shows the same objects.
 * Every `summary` is one line for people and names variables, never their values.
 */

export interface EndpointState {
  readonly channel: string;
  /** `POST` (and for Meta, `GET`) path. */
  readonly path: string;
  readonly source: 'environment' | 'file';
  readonly enabled: boolean;
  /** Enabled: the variable its secret is read from. */
  readonly secretVariable?: string;
  /** Disabled: why ("LINE_CHANNEL_SECRET is not set"). */
  readonly reason?: string;
  /** An endpoint whose bodies name their channel (`POST /webhooks/line`): the channels file's channels it routes to by that name. */
  readonly routesTo?: readonly string[];
  /** Meta endpoints: the GET subscription check, which answers 403 without a verify token. */
  readonly subscriptionCheck?: { readonly enabled: boolean; readonly variable?: string; readonly reason?: string };
  /** How many URLs receive its verified webhooks. */
  readonly forwardUrls: number;
  /** Its own accounts (channels file), one per provider. */
  readonly accounts: readonly string[];
  readonly summary: string;
}

export interface AccountState {
  readonly name: string;
  readonly provider: string;
  readonly providerTitle: string;
  readonly source: 'environment' | 'file';
  readonly configured: boolean;
  /** Not configured: why. */
  readonly reason?: string;
  /** Channels of the channels file that tag in it. */
  readonly channels: readonly string[];
  readonly summary: string;
}

export interface StoreState {
  readonly engine: 'sqlite' | 'postgres';
  /** SQLite: the file; PostgreSQL: host:port/database (and schema), never the user or password. */
  readonly location: string;
  readonly summary: string;
}

export interface RulesState {
  readonly dir: string;
  readonly rules: number;
  readonly enabled: number;
  readonly files: number;
  readonly summary: string;
}

export type SetupWarningCode =
  | 'example-tag-id'
  | 'ephemeral-disk-heroku'
  | 'ephemeral-disk-render'
  | 'provider-not-configured'
  | 'channels-file'
  | 'short-metrics-token'
  | 'shared-rotated-credential';


/** `/admin` and `/metrics`: on or off, open or guarded, by their token variables. */
export interface OperatorEndpointState {
  readonly path: '/admin' | '/metrics';
  /** `/admin`: served at all; `/metrics`: always served, `guarded` says whether it wants a token. */
  readonly enabled: boolean;
  readonly guarded: boolean;
  readonly variable: 'ADMIN_TOKEN' | 'METRICS_TOKEN';
  readonly summary: string;
}

export interface SetupWarning {
  readonly code: SetupWarningCode;
  readonly message: string;
}

export interface SetupStatus {
  readonly endpoints: readonly EndpointState[];
  readonly operatorEndpoints: readonly OperatorEndpointState[];
  readonly accounts: readonly AccountState[];
  readonly store: StoreState;
  /** undefined when no rule set is in force. */
  readonly rules: RulesState | undefined;
  readonly warnings: readonly SetupWarning[];
}

export interface SetupStatusOptions {
  /** The rule set in force. */
  rules?: RuleSet | undefined;
  /** The text of /proc/self/mountinfo, for tests; default: read it (Render's persistent disk check). */
  mountInfo?: string;
}


export function setupStatus(config: Config, opts: SetupStatusOptions = {}): SetupStatus {
  const store = storeState(config);
  return {
    endpoints: config.endpoints.map((e) => endpointState(e, config)),
    operatorEndpoints: operatorEndpoints(config),
    accounts: config.accounts.map((a) => accountState(a, config)),
    store,
    rules: opts.rules && rulesState(config.rulesDir, opts.rules),
    warnings: [
      ...config.warnings.map((message): SetupWarning => ({ code: 'channels-file', message })),
      ...diskWarnings(config, store, opts.mountInfo),
      ...metricsTokenWarnings(config),
      ...sharedCredentialWarnings(config),
      ...(opts.rules ? [...exampleTagWarnings(opts.rules), ...unconfiguredProviderWarnings(opts.rules, config.accounts)] : []),
    ],
  };
}

function operatorEndpoints(config: Config): OperatorEndpointState[] {
  const admin = config.adminToken !== undefined;
  const metrics = config.metricsToken !== undefined;
  return [
    {
      path: '/admin',
      enabled: admin,
      guarded: admin,
      variable: 'ADMIN_TOKEN',
      summary: admin ? '/admin: enabled, the status page asks for ADMIN_TOKEN' : '/admin: disabled (404), ADMIN_TOKEN is not set',
    },
    {
      path: '/metrics',
      enabled: true,
      guarded: metrics,
      variable: 'METRICS_TOKEN',
      summary: metrics ? '/metrics: enabled, wants Authorization: Bearer METRICS_TOKEN' : '/metrics: enabled and open to anyone who reaches it, METRICS_TOKEN is not set',
    },
  ];
}

function endpointState(e: ConfiguredEndpoint, config: Config): EndpointState {
  const { path: p, channel } = e.definition;
  const parts: string[] = [];
  let enabled = e.secret !== undefined;
  let reason: string | undefined;
  // An environment endpoint whose bodies name their channel (POST /webhooks/line) also serves the
  // channels file's channels of its envelope that declare that name (src/app.ts).
  const routing = e.definition.dispatch.envelope.routing;
  const sameKind = channelsRoutedBy(e, config.endpoints).filter((c) => c.secret !== undefined);
  const routed = sameKind.filter((c) => c.routingKey !== undefined);
  const routesTo = routing && routed.length > 0 ? { key: routing.key, channels: routed.map((c) => c.definition.channel) } : undefined;
  if (enabled) {
    const chain = e.definition.secret;
    const variable = e.secretVariable ?? chain[0];
    const skipped = chain.slice(0, chain.indexOf(variable));
    parts.push(`enabled, signatures checked with ${variable}${skipped.length ? ` (${notSet(skipped as [string, ...string[]])})` : ''}`);
    if (routesTo) parts.push(`a body for the ${routesTo.key} of ${routesTo.channels.join(', ')} goes to that channel`);
  } else {
    reason = notSet(e.definition.secret);
    if (routesTo) {
      enabled = true;
      const kinds = `${channelKindTitle(e.definition.dispatch.envelope) ?? 'channel'}s`;
      parts.push(`enabled for the channels file's ${kinds} by ${routesTo.key} (${routesTo.channels.join(', ')}); ${reason}, so a body for another ${routesTo.key} gets 401`);
    } else if (routing && sameKind.length > 0) {
      // Some secret of this kind exists, so a body here is refused as unverified (401), not as an endpoint without one (503).
      const own = sameKind.map((c) => c.definition.path).join(', ');
      parts.push(`disabled, ${reason}, and no channel of the channels file declares a ${routing.key}: a body here gets 401 (the file's channels are at ${own})`);
    } else {
      parts.push(`disabled, ${reason}`);
    }
  }
  let subscriptionCheck: EndpointState['subscriptionCheck'];
  if (e.definition.verifyToken) {
    const chain = e.definition.verifyToken;
    const variable = e.verifyToken !== undefined ? (e.verifyTokenVariable ?? chain[0]) : undefined;
    subscriptionCheck = variable !== undefined ? { enabled: true, variable } : { enabled: false, reason: notSet(chain) };
    if (enabled) parts.push(variable !== undefined ? `Meta's subscription check (GET) uses ${variable}` : `Meta's subscription check (GET) answers 403, ${notSet(chain)}`);
  }
  if (enabled && e.forwardUrls.length > 0) parts.push(`forwards to ${e.forwardUrls.length} URL${e.forwardUrls.length > 1 ? 's' : ''}`);
  const accounts = [...e.accounts.values()];
  if (e.source === 'file') parts.push(`channel ${channel} of ${config.channelsFile?.file ?? 'the channels file'}${accounts.length ? `, tags in ${accounts.join(', ')}` : ''}`);
  return {
    channel,
    path: p,
    source: e.source,
    enabled,
    ...(e.secret !== undefined ? { secretVariable: e.secretVariable ?? e.definition.secret[0] } : { reason }),
    ...(routesTo ? { routesTo: routesTo.channels } : {}),
    ...(subscriptionCheck ? { subscriptionCheck } : {}),
    forwardUrls: e.forwardUrls.length,
    accounts,
    summary: `${p}: ${parts.join('; ')}`,
  };
}

function accountState(a: ConfiguredAccount, config: Config): AccountState {
  const channels = config.endpoints.filter((e) => [...e.accounts.values()].includes(a.name)).map((e) => e.definition.channel);
  const where = a.source === 'environment' ? 'from the environment' : `from ${config.channelsFile?.file ?? 'the channels file'}`;
  const reason = a.configured ? undefined : a.source === 'environment' ? `${a.provider.tokenVariable} is not set` : 'its token variable is not set';
  const used = channels.length ? `; tags for ${channels.join(', ')}` : '';
  return {
    name: a.name,
    provider: a.provider.name,
    providerTitle: a.provider.title,
    source: a.source,
    configured: a.configured,
    ...(reason ? { reason } : {}),
    channels,
    summary: a.configured
      ? `account ${a.name} (${a.provider.title}, ${where}): configured${used}`
      : `account ${a.name} (${a.provider.title}, ${where}): not configured, ${reason}; its tag operations are kept as dead letters until it is${used}`,
  };
}

function storeState(config: Config): StoreState {
  if (!config.databaseUrl) {
    const file = sqliteFileIn(config.dataDir);
    return { engine: 'sqlite', location: file, summary: `store: SQLite, file ${file} (DATA_DIR)` };
  }
  const location = postgresLocation(config.databaseUrl, config.database.schema);
  // The setting that decides TLS: an sslmode in the URL, else PGSSLMODE, else DATABASE_SSL.
  const tls = tlsSettings(config.databaseUrl, config.database.tls).mode.from;
  return { engine: 'postgres', location, summary: `store: PostgreSQL, ${location} (DATABASE_URL), TLS by ${tls}` };
}

/** host:port/database, and the schema; never the user name or password. */
export function postgresLocation(url: string, schema: string | undefined): string {
  let where = 'the database DATABASE_URL names';
  try {
    const u = new URL(url);
    const db = decodeURIComponent(u.pathname.replace(/^\//, '')) || '(default database)';
    where = `${u.hostname || 'localhost'}:${u.port || '5432'}/${db}`;
  } catch {
    // Kept vague: a URL that does not parse may hold the password anywhere.
  }
  return schema ? `${where}, schema ${schema}` : where;
}

function rulesState(dir: string, ruleSet: RuleSet): RulesState {
  const enabled = ruleSet.rules.filter((r) => r.enabled).length;
  const n = ruleSet.rules.length;
  const files = ruleSet.files.length;
  return {
    dir,
    rules: n,
    enabled,
    files,
    summary: `rules: ${n} rule${n === 1 ? '' : 's'} (${enabled} enabled) from ${files} file${files === 1 ? '' : 's'} in ${dir}`,
  };
}

/** Data that stays: SQLite on a disk that does not. Logged as errors, the rest of the warnings as warnings. */
const LOUD: ReadonlySet<SetupWarningCode> = new Set(['ephemeral-disk-heroku', 'ephemeral-disk-render']);

/** The start log: one line per endpoint (webhooks, /admin, /metrics), account, the store, the rules, and each warning. */
export function logSetupStatus(log: Logger, status: SetupStatus): void {
  for (const e of status.endpoints) log.info(e.summary, { setup: 'endpoint', channel: e.channel, enabled: e.enabled });
  for (const e of status.operatorEndpoints) log.info(e.summary, { setup: 'endpoint', path: e.path, enabled: e.enabled, guarded: e.guarded });
  for (const a of status.accounts) log.info(a.summary, { setup: 'account', account: a.name, provider: a.provider, configured: a.configured });
  log.info(status.store.summary, { setup: 'store', engine: status.store.engine });
  if (status.rules) log.info(status.rules.summary, { setup: 'rules', rules: status.rules.rules, files: status.rules.files });
  for (const w of status.warnings) log.log(LOUD.has(w.code) ? 'error' : 'warn', w.message, { setup: 'warning', code: w.code });
}
