import type { ChatEvent } from '../chat-event';

/*
 * What a platform module is. A module owns everything about one platform (or, for
 * Messenger and Instagram, two that share one payload format): its names, its webhook
 * URL and the variables of its secret, verify token and forwards, the signature it is
 * checked with, its payload schema, how a body becomes ChatEvents, who the recipient
 * is, and the ordering key of its webhooks. `index.ts` lists the modules, `endpoints.ts`
 * builds the endpoints from that list; nothing after the modules knows a raw payload
 * or names a platform.
 */

/** An event kept without a user because the id it carried cannot be used as one. */
export interface UnusableUser {
  eventId: string;
  /** Why, without the id itself (it may be huge or hold control characters). */
  problem: string;
}

/** What a platform module makes of one webhook body. */
export interface PlatformWebhook {
  /** In the order the platform sent them. */
  events: ChatEvent[];
  /** The webhook's recipient: that of its first entry (see ChatEvent.recipient). */
  recipient: string;
  /** Items that could not be understood and were skipped (never a 400). */
  ignored: number;
  /** Events whose user id could not be used; the request path logs each as a warning. */
  unusableUsers: UnusableUser[];
}

/** A webhook body as the request path needs it. */
export interface ReceivedWebhook extends PlatformWebhook {
  /** Forwards with the same key reach a destination in the order received. */
  orderingKey: string;
  /** A Meta `object` that no platform of this endpoint reads: answered 200 and forwarded, nothing else. */
  unknownObject?: string;
}

/** Turns a verified body into events, for one channel. @throws WebhookBodyError when it is not a webhook */
export type WebhookReader = (rawBody: Buffer, channel: string) => ReceivedWebhook;

/** LINE's top level: a JSON object with an `events` array. */
export interface LineEnvelope {
  /** The bot's user id; LINE always sends it, a body without it gets the recipient ''. */
  destination: string | undefined;
  events: unknown[];
}

/** Meta's top level (Messenger, Instagram, WhatsApp): a JSON object with a string `object` and an `entry` array. */
export interface MetaEnvelope {
  object: string;
  entry: unknown[];
}

/**
 * How webhooks are signed. Checked over the exact bytes received (never a re-serialized
 * body); a missing, garbled or wrong signature, or an empty secret, is `false`, never an exception.
 */
export interface SignatureScheme {
  /** Lower-case name of the header carrying the signature (also passed on to forwards). */
  readonly header: string;
  /** Whether the header has the signature's form at all: checked before the body is read (CONTRACT check order). */
  wellFormed(signature: string): boolean;
  verify(rawBody: Buffer, signature: string | undefined, secret: string): boolean;
}

/**
 * A body that names the channel it is for (LINE's `destination`, the bot's user id):
 * the channels file's channels of its envelope may declare that name, and the
 * environment's endpoint of the envelope then checks a body with the secret of the
 * channel it names (CONTRACT "Several channels in one instance").
 */
export interface BodyRouting {
  /** The body's and the channels file's word for the name: `destination`. */
  readonly key: string;
  /**
   * The name a body gives; undefined when it is not JSON or gives none. Read before
   * the signature is checked, and only to choose the secret that must verify it.
   */
  routingKey(rawBody: Buffer): string | undefined;
}

/**
 * The top level webhooks arrive in, shared by the modules whose platforms send it
 * (Meta's, by Messenger, Instagram and WhatsApp): the only part of a body whose shape
 * decides between 200 and 400. `M` is what its reader needs of a module.
 */
export interface Envelope<B, M extends PlatformModule<string, B> = PlatformModule<string, B>> {
  /** `line`, `meta`: the metrics' `platform` of the channels file's channels, which receive an envelope rather than one platform. */
  readonly name: string;
  /** A reader that hands bodies of this envelope to `modules` (each of this envelope). */
  reader(modules: readonly M[]): WebhookReader;
  readonly routing?: BodyRouting;
}

/** Environment variables naming one setting; the first one set wins. */
export type VariableChain = readonly [string, ...string[]];

/**
 * The modules an endpoint hands its bodies to: `module`, the one that declares it;
 * `envelope`, every module of the platform list whose webhooks come in the declaring
 * module's envelope (one Meta app sends all its products to one callback URL).
 */
export type Receives = 'module' | 'envelope';

/** The environment's webhook URL of a platform (CONTRACT "HTTP endpoints"). */
export interface EndpointSpec {
  /** The channel id (rules' `channel:`, logs, metrics, the history): `line`, `facebook`, … */
  readonly channel: string;
  readonly path: string;
  readonly signature: SignatureScheme;
  /** The variables the signing secret comes from; without one the endpoint answers 503. */
  readonly secret: VariableChain;
  /** Meta's GET subscription check (`hub.verify_token`); LINE has none. */
  readonly verifyToken?: VariableChain;
  /** The variable of comma-separated URLs that receive every verified webhook of this endpoint as it came. */
  readonly forwardUrls: string;
  readonly receives: Receives;
}

/** A kind of channel the channels file may declare with `platform: {name}`. */
export interface ChannelKindSpec {
  /** As written in the channels file's `platform:`. */
  readonly name: string;
  /** For people: `LINE channel`, `Meta app`. */
  readonly title: string;
  /** `POST {pathPrefix}/{id}` (and with a verify token, `GET`: the subscription check). */
  readonly pathPrefix: string;
  readonly signature: SignatureScheme;
  /** The key of its signing secret. */
  readonly secretKey: string;
  /** The key of Meta's `hub.verify_token`; LINE has none. */
  readonly verifyTokenKey?: string;
  readonly receives: Receives;
}

/** One platform (or two sharing a payload format): everything the rest of the service learns of it. */
export interface PlatformModule<N extends string = string, B = unknown> {
  /** The platform names this module's events carry: what rules' `platform:` names. */
  readonly names: readonly N[];
  readonly envelope: Envelope<B>;
  toChatEvents(body: B, channel: string): PlatformWebhook;
  /** Forwards with the same key reach a destination in the order received (CONTRACT "Forwards"). */
  orderingKey(webhook: PlatformWebhook): string;
  /** Its webhook URL of the environment's configuration. */
  readonly endpoint: EndpointSpec;
  /** The kind of channel the channels file declares for it, if any. */
  readonly channelKind?: ChannelKindSpec;
}

/** A platform whose webhooks come in Meta's envelope; Meta endpoints dispatch on `object`. */
export interface MetaPlatformModule<N extends string = string> extends PlatformModule<N, MetaEnvelope> {
  readonly envelope: Envelope<MetaEnvelope, MetaPlatformModule>;
  /** The `object` values this module reads. */
  readonly objects: readonly string[];
}

/**
 * The usual ordering key: the user of the webhook's first event, else that
 * event's recipient; for a webhook without events, the webhook's recipient.
 */
export function firstUserOrRecipient(webhook: PlatformWebhook): string {
  const first = webhook.events[0];
  if (first === undefined) return webhook.recipient;
  return first.userId ?? first.recipient;
}
