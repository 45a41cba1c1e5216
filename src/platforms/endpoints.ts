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

/** One webhook URL of the environment's configuration: a channel of its own. */
export interface EndpointDefinition {
  /** The channel id (rules' `channel:`, logs, metrics, the history): `line`, `facebook`, … */
  readonly channel: string;
  readonly path: string;
  readonly signature: SignatureScheme;
  /** Where the signing secret comes from; without one the endpoint answers 503. */
  readonly secret: VariableChain;
  /** Meta's GET subscription check (`hub.verify_token`); LINE has none. */
  readonly verifyToken?: VariableChain;
  /** Comma-separated URLs that receive every verified webhook of this endpoint as it came. */
  readonly forwardUrls: string;
  readonly dispatch: Dispatch;
}

/** The endpoints configured by environment variables (CONTRACT "HTTP endpoints"). */
export const ENVIRONMENT_ENDPOINTS: readonly EndpointDefinition[] = [
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
