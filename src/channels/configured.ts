import type { EndpointDefinition } from '../platforms/endpoints';
import { providerNamed, type SomeProvider } from '../providers';
import type { Provider } from '../tag-operation';
import type { ChannelsFile } from './definitions';

/*
 * The channels and accounts in force: the environment's (one channel per endpoint,
 * one account per provider, named after it) and those of the channels file, in one
 * shape, so the request path, delivery and the operator views need not know where
 * each was declared.
 */

/** One channel: a webhook endpoint and what its variables (or the channels file) say. */
export interface ConfiguredEndpoint {
  readonly definition: EndpointDefinition;
  /** The signing secret; undefined: the endpoint answers 503. */
  readonly secret: string | undefined;
  /** The variable the secret was read from (the first of `definition.secret` that is set); logs name it, never the secret. */
  readonly secretVariable?: string | undefined;
  readonly verifyToken: string | undefined;
  /** The variable the verify token was read from. */
  readonly verifyTokenVariable?: string | undefined;
  readonly forwardUrls: readonly string[];
  /** Where it is declared. */
  readonly source: 'environment' | 'file';
  /**
   * Channels of the channels file whose bodies name the channel they are for: that name
   * (LINE's `destination`, the bot's user id), which routes the environment's endpoint
   * of their envelope (`POST /webhooks/line`) to them.
   */
  readonly routingKey?: string;
  /** Its own account per provider (channels file); none for the environment's channels. */
  readonly accounts: ReadonlyMap<Provider, string>;
}

/** One account tags are applied in. */
export interface ConfiguredAccount {
  /** `mantago`, `botbonnie` for the environment's; the channels file's names otherwise. */
  readonly name: string;
  readonly provider: SomeProvider;
  /** Read by `provider` (its `env` or its `fromAccount`). */
  readonly settings: unknown;
  /** Its token is set (CONTRACT: a provider is configured when its token is set). */
  readonly configured: boolean;
  readonly source: 'environment' | 'file';
}

/** The channels file's channels as endpoints: `POST /webhooks/line/{id}`, `GET`/`POST /webhooks/meta/{id}`. */
export function fileEndpoints(file: ChannelsFile): ConfiguredEndpoint[] {
  const providerOf = new Map<string, Provider>(file.accounts.map((a) => [a.name, a.provider]));
  return file.channels.map((c): ConfiguredEndpoint => {
    const accounts = new Map<Provider, string>();
    // An account name not in the file is the environment's, named after its provider.
    for (const name of c.accounts) accounts.set(providerOf.get(name) ?? (name as Provider), name);
    return Object.freeze({
      definition: {
        channel: c.id,
        path: `${c.kind.pathPrefix}/${c.id}`,
        signature: c.kind.signature,
        secret: [c.secretVariable] as const,
        ...(c.verifyTokenVariable !== undefined ? { verifyToken: [c.verifyTokenVariable] as const } : {}),
        dispatch: c.kind.dispatch,
      },
      secret: c.secret,
      secretVariable: c.secret !== undefined ? c.secretVariable : undefined,
      verifyToken: c.verifyToken,
      verifyTokenVariable: c.verifyToken !== undefined ? c.verifyTokenVariable : undefined,
      forwardUrls: c.forwardUrls,
      source: 'file',
      ...(c.destination !== undefined ? { routingKey: c.destination } : {}),
      accounts,
    });
  });
}

/**
 * The channels file's channels an environment endpoint serves besides its own, when
 * its bodies name the channel they are for (`POST /webhooks/line`: the channels file's
 * LINE channels, by `destination`): those of its envelope. Empty for any other endpoint.
 */
export function channelsRoutedBy(endpoint: ConfiguredEndpoint, endpoints: readonly ConfiguredEndpoint[]): ConfiguredEndpoint[] {
  const { envelope } = endpoint.definition.dispatch;
  if (endpoint.source !== 'environment' || envelope.routing === undefined) return [];
  return endpoints.filter((e) => e.source === 'file' && e.definition.dispatch.envelope === envelope);
}

export function fileAccounts(file: ChannelsFile): ConfiguredAccount[] {
  return file.accounts.map((a) => {
    const provider = providerNamed(a.provider);
    const settings = provider.fromAccount(a.account);
    return Object.freeze({ name: a.name, provider, settings, configured: provider.isConfigured(settings), source: 'file' as const });
  });
}
