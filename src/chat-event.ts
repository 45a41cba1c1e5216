/**
 * The one event shape every platform module produces. Nothing after
 * `src/platforms/` ever sees a raw LINE, Meta or WhatsApp payload.
 *
 * The platform names come from the platform list (`src/platforms/index.ts`):
 * a new platform module adds its names there, and rules, the playground and
 * `autotag test` offer them without a change of their own.
 */
export { PLATFORMS, type Platform } from './platforms';
import type { Platform } from './platforms';

export { EVENT_KINDS, type EventKind } from './event-kinds';
import type { EventKind } from './event-kinds';

export interface ChatEvent {
  platform: Platform;
  /**
   * The configured channel the webhook came in on — whose secret verified it. The
   * environment's endpoints are the channels `line`, `facebook` and `whatsapp`.
   */
  channel: string;
  /**
   * Who the user wrote to: the LINE `destination` (the bot's user id), the Facebook
   * page or Instagram account id (`entry[].id`), the WhatsApp `metadata.phone_number_id`.
   * BotBonnie's `bot_pid` comes from it.
   */
  recipient: string;
  /**
   * The user the event is about (LINE `source.userId`, Meta `sender.id`, WhatsApp
   * `from`, else `from_user_id`); undefined when the event has none, or none that
   * can be used as one (see `platforms/user-id.ts`).
   */
  userId: string | undefined;
  /** What rules see; `other` for event types rules cannot ask for (join, read, reaction, …). */
  kind: EventKind | 'other';
  /** The platform's own name for the event, e.g. `message/sticker`, `memberJoined`, `referral`. */
  type: string;
  /** Message text (also set for quick replies and WhatsApp button replies). */
  text?: string;
  /**
   * LINE `postback.data`, Meta `postback.payload` or a quick reply's payload,
   * WhatsApp's interactive reply id or template button payload.
   */
  postbackData?: string;
  /**
   * The key that makes a redelivered event a duplicate: LINE `webhookEventId`,
   * Meta `message.mid` (or sender + timestamp + payload for postbacks), WhatsApp
   * `messages[].id` (the `wamid`).
   */
  eventId: string;
  /** Milliseconds since the epoch, from the platform (the "now" for rule schedules). */
  timestamp: number;
  /** LINE `deliveryContext.isRedelivery`; Meta and WhatsApp do not say. */
  isRedelivery: boolean;
}
