import { z } from 'zod';

/*
 * WhatsApp Cloud API webhook payloads (`object: "whatsapp_business_account"`), validated
 * only as far as the module reads them.
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages
 *
 * Objects are loose (fields WhatsApp adds later pass through). A change or message the
 * module cannot read (no phone_number_id, no id, no timestamp) is ignored; it never
 * fails the batch.
 */

/**
 * WhatsApp sends Unix seconds as a string ("1749416383"); a number is taken too. As for
 * Messenger, a value of 1e11 or more cannot be seconds of a plausible time and is read
 * as milliseconds.
 */
const SECONDS_BELOW = 100_000_000_000;
const epochMillis = z
  .union([z.string().regex(/^\d{1,15}$/).transform(Number), z.number().int().nonnegative()])
  .transform((t) => (t < SECONDS_BELOW ? t * 1000 : t));

const reply = z.looseObject({ id: z.string(), title: z.string() });

export const whatsappMessage = z.looseObject({
  /** The `wamid.…`: unique per message, the dedup key. */
  id: z.string().min(1),
  timestamp: epochMillis,
  type: z.string().min(1),
  // Read by the module (platforms/user-id.ts): an unusable id leaves the event without a user, not ignored.
  from: z.unknown().optional(),
  /** The business-scoped user id (2026), the user when `from` is absent. */
  from_user_id: z.unknown().optional(),
  text: z.looseObject({ body: z.string() }).optional().catch(undefined),
  interactive: z
    .looseObject({
      type: z.string(),
      button_reply: reply.optional().catch(undefined),
      list_reply: reply.optional().catch(undefined),
    })
    .optional()
    .catch(undefined),
  /** A template's quick-reply button. */
  button: z.looseObject({ text: z.string().optional(), payload: z.string().optional() }).optional().catch(undefined),
});

export type WhatsappMessage = z.infer<typeof whatsappMessage>;

/** The `value` of a `field: "messages"` change. `statuses` (receipts of the business's own messages) are not read. */
export const whatsappMessagesValue = z.looseObject({
  metadata: z.looseObject({ phone_number_id: z.string().min(1) }),
  messages: z.array(z.unknown()).optional().catch(undefined),
});

export const whatsappChange = z.looseObject({ field: z.string(), value: z.unknown() });

export const whatsappEntry = z.looseObject({
  /** The WhatsApp Business Account id (not read). */
  id: z.string().optional().catch(undefined),
  changes: z.array(z.unknown()),
});
