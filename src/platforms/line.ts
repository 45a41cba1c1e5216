import { validateSignature } from '@line/bot-sdk';
import type { ChatEvent, EventKind } from '../chat-event';
import { WebhookBodyError } from './errors';
import { fingerprint } from './fingerprint';
import { describeJson, parseJsonObject } from './json-body';
import { parseLineEvent, type LineEvent, type LineEventBase } from './line-schema';

export type { LineEvent } from './line-schema';

/** A LINE webhook body after parsing: the events understood, and how many were not. */
export interface LineWebhook {
  /** The bot's user id; LINE always sends it, a body without it gets the channel ''. */
  destination: string | undefined;
  events: LineEvent[];
  /** Elements of `events` with an unknown shape, skipped (never a 400). */
  ignored: number;
}

// LINE signs with HMAC-SHA256 and sends standard base64 with padding: always 44 characters.
const BASE64_SHA256 = /^[A-Za-z0-9+/]{43}=$/;

/**
 * Checks `X-Line-Signature` over the exact bytes received (never a re-serialized body).
 * A missing, garbled or wrong signature, or an empty secret, is `false`; it never throws.
 */
export function verifyLineSignature(rawBody: Buffer, signature: string | undefined, channelSecret: string): boolean {
  if (typeof signature !== 'string' || !BASE64_SHA256.test(signature) || channelSecret === '') return false;
  try {
    return validateSignature(rawBody, channelSecret, signature);
  } catch {
    return false;
  }
}

/**
 * Parses a LINE webhook body. Only the top level is required: a JSON object with an
 * `events` array (LINE's Verify button sends `events: []`). Events that cannot be
 * understood are counted in `ignored`, never rejected.
 * @throws WebhookBodyError when the body is not a LINE webhook at all
 */
export function parseLineWebhook(rawBody: Buffer): LineWebhook {
  const body = parseJsonObject(rawBody);
  if (!Array.isArray(body.events)) throw new WebhookBodyError(`\`events\` must be an array, not ${describeJson(body.events)}`);
  const destination = typeof body.destination === 'string' ? body.destination : undefined;
  const events: LineEvent[] = [];
  let ignored = 0;
  for (const raw of body.events) {
    const event = parseLineEvent(raw);
    if (event === undefined) ignored += 1;
    else events.push(event);
  }
  return { destination, events, ignored };
}

/** One ChatEvent per understood event, in the order LINE sent them. */
export function lineToChatEvents(body: LineWebhook): ChatEvent[] {
  const channel = body.destination ?? '';
  return body.events.map((e) => toChatEvent(e, channel));
}

function toChatEvent(parsed: LineEvent, channel: string): ChatEvent {
  const { event } = parsed;
  const result: ChatEvent = {
    platform: 'line',
    channel,
    userId: event.source?.userId,
    kind: 'other',
    type: event.type,
    eventId: event.webhookEventId ?? `content:${fingerprint(event, CHANGES_ON_REDELIVERY)}`,
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
