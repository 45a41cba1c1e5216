import type { validateSignature } from '@line/bot-sdk';
import type { ChatEvent, EventKind } from '../chat-event';
import { WebhookBodyError } from './errors';
import { fingerprint } from './fingerprint';
import { describeJson, parseJsonObject } from './json-body';
import { parseLineEvent, type LineEvent, type LineEventBase } from './line-schema';
import { firstUserOrRecipient, type Envelope, type LineEnvelope, type PlatformModule, type PlatformWebhook, type SignatureScheme, type UnusableUser } from './platform';
import { readUserId } from './user-id';

export type { LineEvent } from './line-schema';

/**
 * LINE's envelope. LINE's Verify button sends `events: []`. CONTRACT: "not a webhook"
 * is not a JSON object with an `events` array; what the module cannot read below it
 * is skipped, never rejected.
 * @throws WebhookBodyError when the body is not a LINE webhook at all
 */
export function parseLineEnvelope(rawBody: Buffer): LineEnvelope {
  const body = parseJsonObject(rawBody);
  if (!Array.isArray(body.events)) throw new WebhookBodyError(`\`events\` must be an array, not ${describeJson(body.events)}`);
  return { destination: typeof body.destination === 'string' ? body.destination : undefined, events: body.events };
}

/** The `destination` of a LINE body; undefined when it is not JSON or names none (the environment's channel then checks it). */
export function destinationOf(raw: Buffer): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
  const destination = typeof body === 'object' && body !== null ? (body as { destination?: unknown }).destination : undefined;
  return typeof destination === 'string' ? destination : undefined;
}

const LINE_ENVELOPE: Envelope<LineEnvelope> = {
  name: 'line',
  reader: (modules) => (raw, channel) => {
    const body = parseLineEnvelope(raw);
    const module = modules[0];
    if (module === undefined) throw new Error('a LINE endpoint without a module');
    const webhook = module.toChatEvents(body, channel);
    return { ...webhook, orderingKey: module.orderingKey(webhook) };
  },
  // The bot's user id: one `POST /webhooks/line` serves every LINE channel of the channels file that declares it.
  routing: { key: 'destination', routingKey: destinationOf },
};

// LINE signs with HMAC-SHA256 and sends standard base64 with padding: always 44 characters.
const BASE64_SHA256 = /^[A-Za-z0-9+/]{43}=$/;

// The SDK is loaded on first use: it takes a noticeable part of a second, and the
// commands that read the configuration (which names this scheme) never verify anything.
let sdkValidate: typeof validateSignature | undefined;
function lineValidate(): typeof validateSignature {
  sdkValidate ??= (require('@line/bot-sdk') as typeof import('@line/bot-sdk')).validateSignature;
  return sdkValidate;
}

/**
 * `X-Line-Signature`: base64 HMAC-SHA256 of the body with the channel secret, checked by the SDK.
 * https://developers.line.biz/en/reference/messaging-api/#signature-validation
 */
export function verifyLineSignature(rawBody: Buffer, signature: string | undefined, channelSecret: string): boolean {
  if (typeof signature !== 'string' || !BASE64_SHA256.test(signature) || channelSecret === '') return false;
  try {
    return lineValidate()(rawBody, channelSecret, signature);
  } catch {
    return false;
  }
}

export const LINE_SIGNATURE: SignatureScheme = {
  header: 'x-line-signature',
  wellFormed: (signature) => BASE64_SHA256.test(signature),
  verify: verifyLineSignature,
};

/**
 * LINE Messaging API webhooks: one ChatEvent per understood event, in the order
 * LINE sent them. The recipient is the webhook's `destination` (the bot's user id).
 * https://developers.line.biz/en/reference/messaging-api/#webhook-event-objects
 */
export const line: PlatformModule<'line', LineEnvelope> = {
  names: ['line'],
  envelope: LINE_ENVELOPE,
  toChatEvents: lineToChatEvents,
  orderingKey: firstUserOrRecipient,
  endpoint: {
    channel: 'line',
    path: '/webhooks/line',
    signature: LINE_SIGNATURE,
    secret: ['LINE_CHANNEL_SECRET'],
    forwardUrls: 'LINE_FORWARD_URLS',
    receives: 'module',
  },
  channelKind: {
    name: 'line',
    title: 'LINE channel',
    pathPrefix: '/webhooks/line',
    signature: LINE_SIGNATURE,
    secretKey: 'secret',
    receives: 'module',
  },
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
    userId: readUserId(event.source?.userId, eventId, recipient, unusable),
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
