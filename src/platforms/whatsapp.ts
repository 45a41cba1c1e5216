import type { ChatEvent } from '../chat-event';
import { META_ENVELOPE, META_SIGNATURE } from './meta-envelope';
import { firstUserOrRecipient, type MetaEnvelope, type MetaPlatformModule, type PlatformWebhook, type UnusableUser } from './platform';
import { readUserId } from './user-id';
import { whatsappChange, whatsappEntry, whatsappMessage, whatsappMessagesValue, type WhatsappMessage } from './whatsapp-schema';

/**
 * WhatsApp Cloud API webhooks (`object: "whatsapp_business_account"`). Every message
 * of a `field: "messages"` change is one `message` event; statuses and other fields
 * produce nothing. The recipient is the change's `metadata.phone_number_id`: one
 * webhook may carry several phone numbers.
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages
 */
export const whatsapp: MetaPlatformModule<'whatsapp'> = {
  names: ['whatsapp'],
  envelope: META_ENVELOPE,
  objects: ['whatsapp_business_account'],
  toChatEvents: whatsappToChatEvents,
  orderingKey: firstUserOrRecipient,
  endpoint: {
    // WhatsApp often runs under the same Meta app as Messenger: its variables fall back to the app's.
    channel: 'whatsapp',
    path: '/webhooks/whatsapp',
    signature: META_SIGNATURE,
    secret: ['WHATSAPP_APP_SECRET', 'FACEBOOK_APP_SECRET'],
    verifyToken: ['WHATSAPP_VERIFY_TOKEN', 'FACEBOOK_VERIFY_TOKEN'],
    forwardUrls: 'WHATSAPP_FORWARD_URLS',
    receives: 'module',
  },
};

export function whatsappToChatEvents(body: MetaEnvelope, channel: string): PlatformWebhook {
  const events: ChatEvent[] = [];
  const unusableUsers: UnusableUser[] = [];
  let ignored = 0;
  let recipient: string | undefined;
  for (const rawEntry of body.entry) {
    const entry = whatsappEntry.safeParse(rawEntry);
    if (!entry.success) {
      ignored += 1;
      continue;
    }
    for (const rawChange of entry.data.changes) {
      const change = whatsappChange.safeParse(rawChange);
      if (!change.success) {
        ignored += 1;
        continue;
      }
      // Template, account and phone number updates, message echoes of the WhatsApp Business app, …: not user events.
      if (change.data.field !== 'messages') continue;
      const value = whatsappMessagesValue.safeParse(change.data.value);
      if (!value.success) {
        ignored += 1;
        continue;
      }
      const phoneNumberId = value.data.metadata.phone_number_id;
      recipient ??= phoneNumberId;
      for (const rawMessage of value.data.messages ?? []) {
        const message = whatsappMessage.safeParse(rawMessage);
        if (!message.success) ignored += 1;
        else events.push(toChatEvent(message.data, channel, phoneNumberId, unusableUsers));
      }
    }
  }
  return { events, recipient: recipient ?? body.object, ignored, unusableUsers };
}

function toChatEvent(message: WhatsappMessage, channel: string, recipient: string, unusable: UnusableUser[]): ChatEvent {
  // CONTRACT: the user is `from` (the wa_id), or `from_user_id` when `from` is absent
  // (users with a username who have not written to this number for 30 days).
  const user = message.from !== undefined && message.from !== null ? message.from : message.from_user_id;
  const event: ChatEvent = {
    platform: 'whatsapp',
    channel,
    recipient,
    userId: readUserId(user, message.id, recipient, unusable),
    kind: 'message',
    type: `message/${message.type}`,
    eventId: message.id,
    timestamp: message.timestamp,
    isRedelivery: false,
  };
  switch (message.type) {
    case 'text':
      if (message.text !== undefined) event.text = message.text.body;
      break;
    case 'interactive': {
      const interactive = message.interactive;
      if (interactive === undefined) break;
      event.type = `message/${interactive.type}`;
      // A reply button or a list row: its title is what the user saw and tapped, its id what the bot set.
      const picked = interactive.type === 'button_reply' ? interactive.button_reply : interactive.type === 'list_reply' ? interactive.list_reply : undefined;
      if (picked !== undefined) {
        event.text = picked.title;
        event.postbackData = picked.id;
      }
      break;
    }
    case 'button':
      if (message.button?.text !== undefined) event.text = message.button.text;
      if (message.button?.payload !== undefined) event.postbackData = message.button.payload;
      break;
  }
  return event;
}
