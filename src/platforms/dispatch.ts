import type { Dispatch } from './endpoints';
import { metaEnvelopeRecipient, parseLineEnvelope, parseMetaEnvelope } from './envelopes';
import type { MetaPlatformModule, PlatformWebhook } from './platform';

/** A webhook body as the request path needs it. */
export interface ReceivedWebhook extends PlatformWebhook {
  /** Forwards with the same key reach a destination in the order received. */
  orderingKey: string;
  /** A Meta `object` that no platform of this endpoint reads: answered 200 and forwarded, nothing else. */
  unknownObject?: string;
}

/** Turns a verified body into events, for one channel. @throws WebhookBodyError when it is not a webhook */
export type WebhookReader = (rawBody: Buffer, channel: string) => ReceivedWebhook;

export function webhookReader(dispatch: Dispatch): WebhookReader {
  if (dispatch.envelope === 'line') {
    const platform = dispatch.platform;
    return (raw, channel) => {
      const webhook = platform.toChatEvents(parseLineEnvelope(raw), channel);
      return { ...webhook, orderingKey: platform.orderingKey(webhook) };
    };
  }
  // A Map, not an object literal: `object: "__proto__"` or `"toString"` must be unknown, not a prototype's member.
  const byObject = new Map<string, MetaPlatformModule>();
  for (const platform of dispatch.platforms) for (const object of platform.objects) byObject.set(object, platform);
  return (raw, channel) => {
    const body = parseMetaEnvelope(raw);
    const platform = byObject.get(body.object);
    if (platform === undefined) {
      const recipient = metaEnvelopeRecipient(body);
      return { events: [], recipient, ignored: 0, unusableUsers: [], orderingKey: recipient, unknownObject: body.object };
    }
    const webhook = platform.toChatEvents(body, channel);
    return { ...webhook, orderingKey: platform.orderingKey(webhook) };
  };
}
