import type { ChatEvent } from '../chat-event';

/*
 * What a platform module is. A module owns everything about one platform (or, for
 * Messenger and Instagram, two that share one payload format): its names, its
 * payload schema, how a body becomes ChatEvents, who the recipient is, and the
 * ordering key of its webhooks. Endpoints (`endpoints.ts`) say which modules a
 * URL dispatches to; nothing after the modules knows a raw payload.
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

interface PlatformModuleBase<N extends string> {
  /** The platform names this module's events carry: what rules' `platform:` names. */
  readonly names: readonly N[];
  /** Forwards with the same key reach a destination in the order received (CONTRACT "Forwards"). */
  orderingKey(webhook: PlatformWebhook): string;
}

/** A platform whose webhooks come in LINE's envelope. */
export interface LinePlatformModule<N extends string = string> extends PlatformModuleBase<N> {
  readonly envelope: 'line';
  toChatEvents(body: LineEnvelope, channel: string): PlatformWebhook;
}

/** A platform whose webhooks come in Meta's envelope; Meta endpoints dispatch on `object`. */
export interface MetaPlatformModule<N extends string = string> extends PlatformModuleBase<N> {
  readonly envelope: 'meta';
  /** The `object` values this module reads. */
  readonly objects: readonly string[];
  toChatEvents(body: MetaEnvelope, channel: string): PlatformWebhook;
}

export type PlatformModule<N extends string = string> = LinePlatformModule<N> | MetaPlatformModule<N>;

/**
 * The usual ordering key: the user of the webhook's first event, else that
 * event's recipient; for a webhook without events, the webhook's recipient.
 */
export function firstUserOrRecipient(webhook: PlatformWebhook): string {
  const first = webhook.events[0];
  if (first === undefined) return webhook.recipient;
  return first.userId ?? first.recipient;
}
