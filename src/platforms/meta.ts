import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ChatEvent, Platform } from '../chat-event';
import { WebhookBodyError } from './errors';
import { fingerprint } from './fingerprint';
import { describeJson, parseJsonObject } from './json-body';
import { metaEntry, parseMetaItem, type MetaItem, type MetaMessageItem } from './meta-schema';

export type { MetaItem } from './meta-schema';

export interface MetaEntry {
  /** `entry[].id`: the page id, or the Instagram account id. */
  id: string;
  /** The `messaging` items, then the `standby` items, that could be understood. */
  items: MetaItem[];
}

/** A Meta webhook body after parsing. */
export interface MetaWebhook {
  /** `page`, `instagram`, or another object this service does not act on. */
  object: string;
  entries: MetaEntry[];
  /** Entries and items with an unknown shape, skipped (never a 400). */
  ignored: number;
}

const PLATFORM_OF_OBJECT: Readonly<Record<string, Platform>> = { page: 'facebook', instagram: 'instagram' };
const SIGNATURE = /^sha256=([0-9a-f]{64})$/i;

/**
 * Checks `X-Hub-Signature-256: sha256=<hex>` over the exact bytes received, in constant
 * time. Meta signs the body as sent, with non-ASCII characters escaped (`\u6211`), so a
 * re-serialized body would not match. Missing, garbled, wrong or an empty secret: `false`.
 * https://developers.facebook.com/docs/messenger-platform/webhooks#validate-payloads
 */
export function verifyMetaSignature(rawBody: Buffer, header: string | undefined, appSecret: string): boolean {
  if (typeof header !== 'string' || appSecret === '') return false;
  const hex = SIGNATURE.exec(header)?.[1];
  if (hex === undefined) return false;
  const given = Buffer.from(hex, 'hex');
  const expected = createHmac('sha256', appSecret).update(rawBody).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Parses a Meta webhook body. Only the top level is required: a JSON object with a
 * string `object` and an `entry` array. Entries and items that cannot be understood
 * are counted in `ignored`; entries with `changes` (comments, feed) have no items.
 * @throws WebhookBodyError when the body is not a Meta webhook at all
 */
export function parseMetaWebhook(rawBody: Buffer): MetaWebhook {
  const body = parseJsonObject(rawBody);
  if (typeof body.object !== 'string') throw new WebhookBodyError(`\`object\` must be a string, not ${describeJson(body.object)}`);
  if (!Array.isArray(body.entry)) throw new WebhookBodyError(`\`entry\` must be an array, not ${describeJson(body.entry)}`);
  const entries: MetaEntry[] = [];
  let ignored = 0;
  for (const rawEntry of body.entry) {
    const parsed = metaEntry.safeParse(rawEntry);
    if (!parsed.success) {
      ignored += 1;
      continue;
    }
    const items: MetaItem[] = [];
    // A batch holds up to 1,000 items, on `messaging` or, for an app not in control
    // of the conversation (handover protocol), on `standby`.
    for (const list of [parsed.data.messaging, parsed.data.standby]) {
      for (const rawItem of list ?? []) {
        const item = parseMetaItem(rawItem);
        if (item === undefined) ignored += 1;
        else items.push(item);
      }
    }
    entries.push({ id: parsed.data.id, items });
  }
  return { object: body.object, entries, ignored };
}

/**
 * One ChatEvent per understood item, in order; none for echoes, none for objects
 * other than `page` and `instagram`. Items that are neither a message nor a postback
 * (read, delivery, referral, reaction, …) become kind `other`, named by their field.
 */
export function metaToChatEvents(body: MetaWebhook): ChatEvent[] {
  const platform = PLATFORM_OF_OBJECT[body.object];
  if (platform === undefined) return [];
  const events: ChatEvent[] = [];
  for (const entry of body.entries) {
    for (const item of entry.items) {
      const event = toChatEvent(item, platform, entry.id);
      if (event !== undefined) events.push(event);
    }
  }
  return events;
}

function toChatEvent(parsed: MetaItem, platform: Platform, channel: string): ChatEvent | undefined {
  const { item } = parsed;
  const userId = item.sender?.id;
  // Objects are built whole rather than spread from a common base: spreading cost
  // microseconds per event, which adds up in a 1,000-item batch.
  const event = (kind: ChatEvent['kind'], type: string, eventId: string): ChatEvent => ({
    platform,
    channel,
    userId,
    kind,
    type,
    eventId,
    timestamp: item.timestamp,
    isRedelivery: false,
  });
  switch (parsed.shape) {
    case 'message': {
      const { message } = parsed.item;
      // The account's own messages (sent by this or another app, or a human agent).
      if (message.is_echo === true) return undefined;
      // Its own id, so that it is not taken for a redelivery of the message it deletes.
      if (message.is_deleted === true) return event('other', 'message/deleted', `${message.mid}:deleted`);
      const result = event('message', messageType(parsed.item), message.mid);
      if (message.text !== undefined) result.text = message.text;
      const quickReply = message.quick_reply?.payload;
      if (quickReply !== undefined) result.postbackData = quickReply;
      return result;
    }
    case 'postback': {
      const { payload } = parsed.item.postback;
      // CONTRACT "Once": a postback is identified by sender + timestamp + payload.
      const sender = userId ?? item.sender?.user_ref ?? '';
      const result = event('postback', 'postback', `${sender}:${item.timestamp}:${payload ?? ''}`);
      if (payload !== undefined) result.postbackData = payload;
      return result;
    }
    case 'other':
      return event('other', parsed.name, `${parsed.name}:${fingerprint(item)}`);
  }
}

/** `message/text`, `message/quick_reply`, `message/story_reply`, `message/image`, … */
function messageType(item: MetaMessageItem): string {
  const { message } = item;
  if (message.quick_reply !== undefined) return 'message/quick_reply';
  if (message.reply_to?.story !== undefined) return 'message/story_reply';
  if (message.is_unsupported === true) return 'message/unsupported';
  const attachment = message.attachments?.[0]?.type;
  if (attachment !== undefined) return `message/${attachment}`;
  return message.text !== undefined ? 'message/text' : 'message';
}
