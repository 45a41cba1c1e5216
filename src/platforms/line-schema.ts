import { z } from 'zod';

/*
 * LINE webhook payloads, validated only as far as the adapter reads them.
 * Reference: https://developers.line.biz/en/reference/messaging-api/#webhook-event-objects
 * (every event type is in LINE's OpenAPI description, line/line-openapi webhook.yml).
 *
 * Objects are loose: fields LINE adds later pass through untouched. A field that
 * the adapter needs but has an odd shape makes that one event "ignored"; a field
 * it can do without (delivery context, event id) falls back instead.
 */

const epochMillis = z.number().int().nonnegative();

const lineSource = z.looseObject({
  type: z.string().optional(),
  // Read by the module (platforms/user-id.ts): an unusable id leaves the event without a user, not ignored.
  userId: z.unknown().optional(),
  groupId: z.string().optional(),
  roomId: z.string().optional(),
});

export const lineEventBase = z.looseObject({
  type: z.string(),
  timestamp: epochMillis,
  source: lineSource.optional(),
  // Absent in payloads older than the redelivery feature; a content fingerprint stands in.
  webhookEventId: z.string().min(1).optional().catch(undefined),
  // https://developers.line.biz/en/docs/messaging-api/receiving-messages/#webhook-redelivery
  deliveryContext: z.looseObject({ isRedelivery: z.boolean().optional() }).optional().catch(undefined),
});

export const lineMessageEvent = lineEventBase.extend({
  type: z.literal('message'),
  message: z.looseObject({
    type: z.string(),
    id: z.string().optional(),
    // Only read for `type: text`; message stickers carry a `text` too, which rules do not see.
    text: z.string().optional(),
  }),
});

export const linePostbackEvent = lineEventBase.extend({
  type: z.literal('postback'),
  // `params` (datetime picker, rich menu switch) passes through unread.
  postback: z.looseObject({ data: z.string() }),
});

export type LineEventBase = z.infer<typeof lineEventBase>;
export type LineMessageEvent = z.infer<typeof lineMessageEvent>;
export type LinePostbackEvent = z.infer<typeof linePostbackEvent>;

/** One understood event, tagged by the shape the adapter reads from it. */
export type LineEvent =
  | { shape: 'message'; event: LineMessageEvent }
  | { shape: 'postback'; event: LinePostbackEvent }
  | { shape: 'other'; event: LineEventBase };

/** Validates one element of `events`; undefined when it cannot be understood. */
export function parseLineEvent(raw: unknown): LineEvent | undefined {
  const type = typeof raw === 'object' && raw !== null ? (raw as { type?: unknown }).type : undefined;
  if (type === 'message') {
    const r = lineMessageEvent.safeParse(raw);
    return r.success ? { shape: 'message', event: r.data } : undefined;
  }
  if (type === 'postback') {
    const r = linePostbackEvent.safeParse(raw);
    return r.success ? { shape: 'postback', event: r.data } : undefined;
  }
  const r = lineEventBase.safeParse(raw);
  return r.success ? { shape: 'other', event: r.data } : undefined;
}
