/**
 * The one event shape every platform adapter produces. Nothing after
 * `src/platforms/` ever sees a raw LINE or Meta payload.
 */
export const PLATFORMS = ['line', 'facebook', 'instagram'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** The kinds rules can ask for; everything else is `other` and produces nothing. */
export const EVENT_KINDS = ['message', 'postback', 'follow', 'unfollow'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export interface ChatEvent {
  platform: Platform;
  /** LINE `destination`, the Facebook page id, or the Instagram account id (`entry[].id`). */
  channel: string;
  /** LINE `source.userId`, Meta `sender.id`; undefined when the event has no user. */
  userId: string | undefined;
  /** What rules see; `other` for event types rules cannot ask for (join, sticker-only read, …). */
  kind: EventKind | 'other';
  /** The platform's own name for the event, e.g. `message/sticker`, `memberJoined`, `referral`. */
  type: string;
  /** Message text (also set for quick replies). */
  text?: string;
  /** LINE `postback.data`, Meta `postback.payload`, or a quick reply's `message.quick_reply.payload`. */
  postbackData?: string;
  /**
   * The key that makes a redelivered event a duplicate: LINE `webhookEventId`,
   * Meta `message.mid`, or sender + timestamp + payload for postbacks.
   */
  eventId: string;
  /** Milliseconds since the epoch, from the platform (the "now" for rule schedules). */
  timestamp: number;
  /** LINE `deliveryContext.isRedelivery`; Meta does not say. */
  isRedelivery: boolean;
}
