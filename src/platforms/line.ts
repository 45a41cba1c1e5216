import type { ChatEvent, EventKind } from '../chat-event';
import { fingerprint } from './fingerprint';
import { parseLineEvent, type LineEvent, type LineEventBase } from './line-schema';
import { firstUserOrRecipient, type LineEnvelope, type LinePlatformModule, type PlatformWebhook, type UnusableUser } from './platform';
import { readUserId } from './user-id';

export type { LineEvent } from './line-schema';

/**
 * LINE Messaging API webhooks: one ChatEvent per understood event, in the order
 * LINE sent them. The recipient is the webhook's `destination` (the bot's user id).
 * https://developers.line.biz/en/reference/messaging-api/#webhook-event-objects
 */
export const line: LinePlatformModule<'line'> = {
  names: ['line'],
  envelope: 'line',
  toChatEvents: lineToChatEvents,
  orderingKey: firstUserOrRecipient,
};

export function lineToChatEvents(body: LineEnvelope, channel: string): PlatformWebhook {
  const recipient = body.destination ?? '';
  const events: ChatEvent[] = [];
  const unusableUsers: UnusableUser[] = [];
  let ignored = 0;
  for (const raw of body.events) {
    const parsed = parseLineEvent(raw);
    if (parsed === undefined) ignored += 1;
    else events.push(toChatEvent(parsed, channel, recipient, unusableUsers));
  }
  return { events, recipient, ignored, unusableUsers };
}

function toChatEvent(parsed: LineEvent, channel: string, recipient: string, unusable: UnusableUser[]): ChatEvent {
  const { event } = parsed;
  const eventId = event.webhookEventId ?? `content:${fingerprint(event, CHANGES_ON_REDELIVERY)}`;
  const result: ChatEvent = {
    platform: 'line',
    channel,
    recipient,
    userId: readUserId(event.source?.userId, eventId, unusable),
    kind: 'other',
    type: event.type,
    eventId,
    timestamp: event.timestamp,
    isRedelivery: event.deliveryContext?.isRedelivery === true,
  };
  switch (parsed.shape) {
    case 'message': {
      const { message } = parsed.event;
      result.kind = 'message';
      result.type = `message/${message.type}`;
      if (message.type === 'text' && message.text !== undefined) result.text = message.text;
      break;
    }
    case 'postback':
      result.kind = 'postback';
      result.postbackData = parsed.event.postback.data;
      break;
    case 'other':
      result.kind = kindOf(event);
      break;
  }
  return result;
}

// Fields that may differ between two deliveries of the same event.
const CHANGES_ON_REDELIVERY = ['deliveryContext', 'replyToken'];

function kindOf(event: LineEventBase): EventKind | 'other' {
  return event.type === 'follow' || event.type === 'unfollow' ? event.type : 'other';
}
