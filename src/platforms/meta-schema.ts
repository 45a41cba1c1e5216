import { z } from 'zod';

/*
 * Messenger and Instagram webhook payloads, validated only as far as the adapter reads them.
 * Messenger: https://developers.facebook.com/docs/messenger-platform/webhooks
 * Instagram: https://developers.facebook.com/docs/messenger-platform/instagram/features/webhook
 *
 * Objects are loose (new fields pass through). An item the adapter cannot read
 * (no timestamp, a message without `mid`, …) is ignored; it never fails the batch.
 */

/**
 * Meta documents milliseconds but has been seen sending seconds
 * (https://github.com/nyaruka/courier/pull/666). Below 1e11 a value cannot be a
 * plausible time in milliseconds (it would be 1973), so it is taken as seconds.
 */
const SECONDS_BELOW = 100_000_000_000;
const epochMillis = z
  .number()
  .int()
  .nonnegative()
  .transform((t) => (t < SECONDS_BELOW ? t * 1000 : t));

const party = z.looseObject({
  // Read by the module (platforms/user-id.ts): an unusable id leaves the event without a user, not ignored.
  id: z.unknown().optional(),
  // Chat Plugin guests and checkbox opt-ins have a user_ref instead of a PSID.
  user_ref: z.string().optional(),
});

const itemBase = z.looseObject({
  sender: party.optional(),
  timestamp: epochMillis,
});

export const metaMessageItem = itemBase.extend({
  message: z.looseObject({
    mid: z.string().min(1),
    text: z.string().optional(),
    // No fallback here: an item that may be the account's own message is better dropped.
    is_echo: z.boolean().optional(),
    // Instagram: the customer unsent the message, or sent something the API cannot show (GIF, sticker).
    is_deleted: z.boolean().optional().catch(undefined),
    is_unsupported: z.boolean().optional().catch(undefined),
    quick_reply: z.looseObject({ payload: z.string() }).optional(),
    attachments: z.array(z.looseObject({ type: z.string() })).optional().catch(undefined),
    // Instagram story replies carry `reply_to.story`; replies to a message carry `reply_to.mid`.
    reply_to: z.looseObject({ story: z.looseObject({}).optional() }).optional().catch(undefined),
  }),
});

export const metaPostbackItem = itemBase.extend({
  // Postbacks delivered on the standby channel come without `payload`.
  // https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/standby
  postback: z.looseObject({ payload: z.string().optional() }),
});

export type MetaItemBase = z.infer<typeof itemBase>;
export type MetaMessageItem = z.infer<typeof metaMessageItem>;
export type MetaPostbackItem = z.infer<typeof metaPostbackItem>;

/** One understood `messaging` / `standby` item, tagged by the shape the adapter reads from it. */
export type MetaItem =
  | { shape: 'message'; item: MetaMessageItem }
  | { shape: 'postback'; item: MetaPostbackItem }
  /**
   * read, delivery, referral, reaction, optin, handover, …: `name` is the field that says which;
   * `timedByEntry`: it came without a timestamp, and its entry's time stands in.
   */
  | { shape: 'other'; name: string; item: MetaItemBase; timedByEntry?: true };

const ENVELOPE_KEYS = new Set(['sender', 'recipient', 'timestamp']);

/**
 * Validates one messaging item; undefined when it cannot be understood. `entryTime`: the
 * time of its entry, which stands in for the timestamp of an item of neither kind that
 * comes without one (Messenger's delivery receipts do: "delivery" has only a watermark).
 */
export function parseMetaItem(raw: unknown, entryTime?: number): MetaItem | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  if ('message' in raw) {
    const r = metaMessageItem.safeParse(raw);
    return r.success ? { shape: 'message', item: r.data } : undefined;
  }
  if ('postback' in raw) {
    const r = metaPostbackItem.safeParse(raw);
    return r.success ? { shape: 'postback', item: r.data } : undefined;
  }
  const name = Object.keys(raw).find((key) => !ENVELOPE_KEYS.has(key));
  if (name === undefined) return undefined;
  const timedByEntry = !('timestamp' in raw) && entryTime !== undefined;
  const r = itemBase.safeParse(timedByEntry ? { ...raw, timestamp: entryTime } : raw);
  if (!r.success) return undefined;
  return timedByEntry ? { shape: 'other', name, item: r.data, timedByEntry } : { shape: 'other', name, item: r.data };
}

export const metaEntry = z.looseObject({
  /** The page id (Messenger) or the Instagram professional account id. */
  id: z.string().min(1),
  /** When Meta sent the entry (milliseconds; seconds are read as such, as for items). */
  time: epochMillis.optional().catch(undefined),
  messaging: z.array(z.unknown()).optional().catch(undefined),
  standby: z.array(z.unknown()).optional().catch(undefined),
});
