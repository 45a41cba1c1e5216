import type { Platform } from './index';
import { line } from './line';
import { meta } from './meta';
import type { LinePlatformModule, MetaPlatformModule } from './platform';
import { LINE_SIGNATURE, META_SIGNATURE_SCHEME, type SignatureScheme } from './signatures';
import { whatsapp } from './whatsapp';

/**
 * Which platform modules a webhook URL hands its bodies to: a LINE endpoint to the
 * LINE module; a Meta endpoint to the module that reads the body's `object` (one Meta
 * app may send every product to one callback URL).
 */
export type Dispatch =
  | { readonly envelope: 'line'; readonly platform: LinePlatformModule }
  | { readonly envelope: 'meta'; readonly platforms: readonly MetaPlatformModule[] };

/** The platforms that arrive in Meta's envelope: what a Meta app's callback URL dispatches to. */
export const META_PLATFORMS: readonly MetaPlatformModule[] = [meta, whatsapp];

export const LINE_DISPATCH: Dispatch = { envelope: 'line', platform: line };
export const META_DISPATCH: Dispatch = { envelope: 'meta', platforms: META_PLATFORMS };

/** Environment variables naming one setting; the first one set wins. */
export type VariableChain = readonly [string, ...string[]];

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

/** The endpoints configured by environment variables (CONTRACT "HTTP endpoints"). */
export const ENVIRONMENT_ENDPOINTS: readonly EnvironmentEndpoint[] = [
  {
    channel: 'line',
    path: '/webhooks/line',
    signature: LINE_SIGNATURE,
    secret: ['LINE_CHANNEL_SECRET'],
    forwardUrls: 'LINE_FORWARD_URLS',
    dispatch: LINE_DISPATCH,
  },
  {
    channel: 'facebook',
    path: '/webhooks/facebook',
    signature: META_SIGNATURE_SCHEME,
    secret: ['FACEBOOK_APP_SECRET'],
    verifyToken: ['FACEBOOK_VERIFY_TOKEN'],
    forwardUrls: 'FACEBOOK_FORWARD_URLS',
    dispatch: META_DISPATCH,
  },
  {
    // WhatsApp often runs under the same Meta app as Messenger: its variables fall back to the app's.
    channel: 'whatsapp',
    path: '/webhooks/whatsapp',
    signature: META_SIGNATURE_SCHEME,
    secret: ['WHATSAPP_APP_SECRET', 'FACEBOOK_APP_SECRET'],
    verifyToken: ['WHATSAPP_VERIFY_TOKEN', 'FACEBOOK_VERIFY_TOKEN'],
    forwardUrls: 'WHATSAPP_FORWARD_URLS',
    dispatch: { envelope: 'meta', platforms: [whatsapp] },
  },
];

/** "LINE_CHANNEL_SECRET is not set", "neither WHATSAPP_APP_SECRET nor FACEBOOK_APP_SECRET is set". */
export function notSet(chain: VariableChain): string {
  if (chain.length === 1) return `${chain[0]} is not set`;
  return `neither ${chain.slice(0, -1).join(', ')} nor ${chain[chain.length - 1]} is set`;
}

/** The platforms whose webhooks an endpoint with this dispatch list receives. */
export function dispatchPlatforms(dispatch: Dispatch): Platform[] {
  const modules = dispatch.envelope === 'line' ? [dispatch.platform] : dispatch.platforms;
  return modules.flatMap((m) => m.names as readonly Platform[]);
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
 * verify token are written under.
 */
export interface ChannelKind {
  /** As written in the channels file's `platform:`. */
  readonly name: 'line' | 'meta';
  /** For people: `LINE channel`, `Meta app`. */
  readonly title: string;
  /** `POST {pathPrefix}/{id}` (and for Meta `GET`, the subscription check). */
  readonly pathPrefix: string;
  readonly signature: SignatureScheme;
  readonly dispatch: Dispatch;
  /** The key of its signing secret. */
  readonly secretKey: string;
  /** The key of Meta's `hub.verify_token`; LINE has none. */
  readonly verifyTokenKey?: string;
  /** LINE only: the key of the bot's user id, which routes `POST /webhooks/line` without an id. */
  readonly destinationKey?: string;
}

export const CHANNEL_KINDS: readonly ChannelKind[] = [
  {
    name: 'line',
    title: 'LINE channel',
    pathPrefix: '/webhooks/line',
    signature: LINE_SIGNATURE,
    dispatch: LINE_DISPATCH,
    secretKey: 'secret',
    destinationKey: 'destination',
  },
  {
    // One Meta app: its Messenger pages, Instagram accounts and WhatsApp numbers share one callback URL.
    name: 'meta',
    title: 'Meta app',
    pathPrefix: '/webhooks/meta',
    signature: META_SIGNATURE_SCHEME,
    dispatch: META_DISPATCH,
    secretKey: 'app_secret',
    verifyTokenKey: 'verify_token',
  },
];
