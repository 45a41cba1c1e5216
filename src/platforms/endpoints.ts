import { PLATFORM_MODULES, type Platform } from './index';
import type { ChannelKindSpec, EndpointSpec, Envelope, PlatformModule, Receives, SignatureScheme, VariableChain, WebhookReader } from './platform';

export type { VariableChain } from './platform';

/*
 * The webhook URLs, built from the platform list: each module declares its
 * environment endpoint and the kind of channel the channels file declares for it
 * (platform.ts), this file resolves which modules each hands its bodies to.
 */

/** The platform modules a webhook URL hands its bodies to, and how it reads them. */
export interface Dispatch {
  readonly envelope: Envelope<unknown>;
  readonly modules: readonly PlatformModule[];
  /** Turns a verified body into events, for one channel. @throws WebhookBodyError when it is not a webhook */
  readonly read: WebhookReader;
}

function dispatchOf(owner: PlatformModule, receives: Receives): Dispatch {
  // Only modules of the owner's envelope: each reads that envelope's body, which is what `reader` hands them.
  const modules = receives === 'module' ? [owner] : PLATFORM_MODULES.filter((m) => m.envelope === owner.envelope);
  return { envelope: owner.envelope, modules, read: owner.envelope.reader(modules) };
}

/** One webhook URL: a channel of its own (of the environment, or of the channels file). */
export interface EndpointDefinition {
  /** The channel id (rules' `channel:`, logs, metrics, the history): `line`, `facebook`, `brand-a-line`, … */
  readonly channel: string;
  readonly path: string;
  readonly signature: SignatureScheme;
  /** The variables the signing secret comes from; without one the endpoint answers 503. */
  readonly secret: VariableChain;
  /** Meta's GET subscription check (`hub.verify_token`); LINE has none. */
  readonly verifyToken?: VariableChain;
  readonly dispatch: Dispatch;
}

/** An endpoint of the environment's configuration. */
export interface EnvironmentEndpoint extends EndpointDefinition {
  /** The variable of comma-separated URLs that receive every verified webhook of this endpoint as it came. */
  readonly forwardUrls: string;
}

function environmentEndpoint(owner: PlatformModule, { receives, ...spec }: EndpointSpec): EnvironmentEndpoint {
  return { ...spec, dispatch: dispatchOf(owner, receives) };
}

/** The endpoints configured by environment variables (CONTRACT "HTTP endpoints"), in platform list order. */
export const ENVIRONMENT_ENDPOINTS: readonly EnvironmentEndpoint[] = PLATFORM_MODULES.map((m) => environmentEndpoint(m, m.endpoint));

/** "LINE_CHANNEL_SECRET is not set", "neither WHATSAPP_APP_SECRET nor FACEBOOK_APP_SECRET is set". */
export function notSet(chain: VariableChain): string {
  if (chain.length === 1) return `${chain[0]} is not set`;
  return `neither ${chain.slice(0, -1).join(', ')} nor ${chain[chain.length - 1]} is set`;
}

/** The platforms whose webhooks an endpoint with this dispatch receives. */
export function dispatchPlatforms(dispatch: Dispatch): Platform[] {
  return dispatch.modules.flatMap((m) => m.names as readonly Platform[]);
}

/**
 * The environment's channel for a platform's events, where a dry run (`autotag test`,
 * rule examples, the playground) assumes they came in: the endpoint named after the
 * platform (`line`, `facebook`, `whatsapp`), else the first that receives it
 * (Instagram comes with the Meta app's `facebook` endpoint).
 */
export function environmentChannelOf(platform: Platform): string {
  let channel = environmentChannels.get(platform);
  if (channel === undefined) {
    const own = ENVIRONMENT_ENDPOINTS.find((e) => e.channel === platform);
    const carrier = own ?? ENVIRONMENT_ENDPOINTS.find((e) => dispatchPlatforms(e.dispatch).includes(platform));
    if (!carrier) throw new Error(`no environment endpoint receives ${platform} webhooks`);
    environmentChannels.set(platform, (channel = carrier.channel));
  }
  return channel;
}
// Rule evaluation asks for every event without a channel: looked up once per platform.
const environmentChannels = new Map<Platform, string>();

/** The ids of the environment's channels: reserved, the channels file cannot use them. */
export const ENVIRONMENT_CHANNEL_IDS: readonly string[] = ENVIRONMENT_ENDPOINTS.map((e) => e.channel);

/**
 * A kind of channel the channels file may declare (`platform: line` or `platform: meta`):
 * its endpoints, signature, the platforms it dispatches to, and the keys its secret and
 * verify token (and, when bodies name their channel, that name) are written under.
 */
export interface ChannelKind extends Omit<ChannelKindSpec, 'receives'> {
  readonly dispatch: Dispatch;
  /** The key of the name its bodies give the channel they are for (LINE's `destination`, see BodyRouting). */
  readonly destinationKey?: string;
}

function channelKind(owner: PlatformModule, { receives, ...spec }: ChannelKindSpec): ChannelKind {
  const dispatch = dispatchOf(owner, receives);
  const key = dispatch.envelope.routing?.key;
  return { ...spec, dispatch, ...(key !== undefined ? { destinationKey: key } : {}) };
}

/** The kinds of channel of the platform list, in its order. */
export const CHANNEL_KINDS: readonly ChannelKind[] = PLATFORM_MODULES.flatMap((m) => (m.channelKind ? [channelKind(m, m.channelKind)] : []));

/** The channel kind that receives `envelope` (`LINE channel`, `Meta app`), for people. */
export function channelKindTitle(envelope: Envelope<unknown>): string | undefined {
  return CHANNEL_KINDS.find((k) => k.dispatch.envelope === envelope)?.title;
}
