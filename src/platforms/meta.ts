import type { ChatEvent, Platform } from '../chat-event';
import { fingerprint } from './fingerprint';
import { META_ENVELOPE, META_SIGNATURE } from './meta-envelope';
import { metaEntry, parseMetaItem, type MetaItem, type MetaMessageItem } from './meta-schema';
import { firstUserOrRecipient, type MetaEnvelope, type MetaPlatformModule, type PlatformWebhook, type UnusableUser } from './platform';
import { readUserId } from './user-id';

export type { MetaItem } from './meta-schema';

// Own-property lookups only: an `object` such as "__proto__" or "toString" is simply unknown.
const PLATFORM_OF_OBJECT = new Map<string, 'facebook' | 'instagram'>([
  ['page', 'facebook'],
  ['instagram', 'instagram'],
]);

/**
 * Messenger (`object: "page"`) and Instagram (`object: "instagram"`) webhooks: one
 * payload format, two platforms. The recipient is `entry[].id` (the page, or the
 * Instagram professional account).
 * Messenger: https://developers.facebook.com/docs/messenger-platform/webhooks
 * Instagram: https://developers.facebook.com/docs/messenger-platform/instagram/features/webhook
 */
export const meta: MetaPlatformModule<'facebook' | 'instagram'> = {
  names: ['facebook', 'instagram'],
  envelope: META_ENVELOPE,
  objects: [...PLATFORM_OF_OBJECT.keys()],
  toChatEvents: metaToChatEvents,
  orderingKey: firstUserOrRecipient,
  // A Meta app's callback URL: it receives every product of the app, WhatsApp too.
  endpoint: {
    channel: 'facebook',
    path: '/webhooks/facebook',
    signature: META_SIGNATURE,
    secret: ['FACEBOOK_APP_SECRET'],
    verifyToken: ['FACEBOOK_VERIFY_TOKEN'],
    forwardUrls: 'FACEBOOK_FORWARD_URLS',
    receives: 'envelope',
  },
  // One Meta app: its Messenger pages, Instagram accounts and WhatsApp numbers share one callback URL.
  channelKind: {
    name: 'meta',
    title: 'Meta app',
    pathPrefix: '/webhooks/meta',
    signature: META_SIGNATURE,
    secretKey: 'app_secret',
    verifyTokenKey: 'verify_token',
    receives: 'envelope',
  },
};

/**
 * One ChatEvent per understood `messaging` / `standby` item, in order; none for
 * echoes. Items that are neither a message nor a postback (read, delivery, referral,
 * reaction, …) become kind `other`, named by their field. Entries with `changes`
 * (comments, feed) have no items. What cannot be understood is counted in `ignored`.
 */
export function metaToChatEvents(body: MetaEnvelope, channel: string): PlatformWebhook {
  const platform = PLATFORM_OF_OBJECT.get(body.object);
  const events: ChatEvent[] = [];
  const unusableUsers: UnusableUser[] = [];
  let ignored = 0;
  let recipient: string | undefined;
  for (const rawEntry of body.entry) {
    const entry = metaEntry.safeParse(rawEntry);
    if (!entry.success) {
      ignored += 1;
      continue;
    }
    recipient ??= entry.data.id;
    // A batch holds up to 1,000 items, on `messaging` or, for an app not in control
    // of the conversation (handover protocol), on `standby`.
    for (const list of [entry.data.messaging, entry.data.standby]) {
      for (const rawItem of list ?? []) {
        const item = parseMetaItem(rawItem, entry.data.time);
        if (item === undefined) ignored += 1;
        else if (platform !== undefined) {
          const event = toChatEvent(item, { platform, channel, recipient: entry.data.id }, unusableUsers);
          if (event !== undefined) events.push(event);
        }
      }
    }
  }
  return { events, recipient: recipient ?? body.object, ignored, unusableUsers };
}

interface Where {
  platform: Platform;
  channel: string;
  recipient: string;
}

function toChatEvent(parsed: MetaItem, where: Where, unusable: UnusableUser[]): ChatEvent | undefined {
  const { item } = parsed;
  // Objects are built whole rather than spread from a common base: spreading cost
  // microseconds per event, which adds up in a 1,000-item batch.
  const event = (kind: ChatEvent['kind'], type: string, eventId: string): ChatEvent => ({
    platform: where.platform,
    channel: where.channel,
    recipient: where.recipient,
    userId: readUserId(item.sender?.id, eventId, where.recipient, unusable),
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
      const senderId = item.sender?.id;
      const sender = typeof senderId === 'string' ? senderId : (item.sender?.user_ref ?? '');
      // The sender is escaped so that the id is unambiguous (a ':' in it cannot shift into the
      // timestamp or payload); a Meta id (digits) or a user_ref without ':' or '%' reads as before.
      const result = event('postback', 'postback', `${escapeIdPart(sender)}:${item.timestamp}:${payload ?? ''}`);
      if (payload !== undefined) result.postbackData = payload;
      return result;
    }
    case 'other':
      // A redelivered copy is the same event whatever the time of the entry that carries it.
      return event('other', parsed.name, `${parsed.name}:${fingerprint(item, parsed.timedByEntry ? ['timestamp'] : [])}`);
  }
}

/** `:` and `%` escaped (as encodeURIComponent does), so that `sender:timestamp:payload` is one event only. */
function escapeIdPart(part: string): string {
  return part.replace(/[%:]/g, (c) => (c === '%' ? '%25' : '%3A'));
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
