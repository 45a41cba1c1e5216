import type { ChatEvent } from '../chat-event';
import type { Config } from '../config';
import { lineToChatEvents, parseLineWebhook, verifyLineSignature } from '../platforms/line';
import { metaToChatEvents, parseMetaWebhook, verifyMetaSignature } from '../platforms/meta';

/** What the webhook pipeline needs to know about one platform's endpoint. */
export interface WebhookAdapter {
  /** Metric/log label. */
  name: 'line' | 'facebook';
  /** The variable that must be set for the endpoint to work (named in the 503). */
  secretVariable: string;
  secret: string | undefined;
  /** Lower-case header name carrying the signature (also passed on to forwards). */
  signatureHeader: string;
  verify(raw: Buffer, signature: string | undefined, secret: string): boolean;
  /** Throws WebhookBodyError for a body that is not this platform's webhook. */
  toEvents(raw: Buffer): { events: ChatEvent[]; channel: string };
  forwardUrls: readonly string[];
}

export function lineAdapter(config: Config): WebhookAdapter {
  return {
    name: 'line',
    secretVariable: 'LINE_CHANNEL_SECRET',
    secret: config.line.channelSecret,
    signatureHeader: 'x-line-signature',
    verify: verifyLineSignature,
    toEvents(raw) {
      const body = parseLineWebhook(raw);
      return { events: lineToChatEvents(body), channel: typeof body.destination === 'string' ? body.destination : 'line' };
    },
    forwardUrls: config.forward.line,
  };
}

export function metaAdapter(config: Config): WebhookAdapter {
  return {
    name: 'facebook',
    secretVariable: 'FACEBOOK_APP_SECRET',
    secret: config.facebook.appSecret,
    signatureHeader: 'x-hub-signature-256',
    verify: verifyMetaSignature,
    toEvents(raw) {
      const body = parseMetaWebhook(raw);
      const channel = body.entries[0]?.id ?? body.object;
      return { events: metaToChatEvents(body), channel };
    },
    forwardUrls: config.forward.facebook,
  };
}
