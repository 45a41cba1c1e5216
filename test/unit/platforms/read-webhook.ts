import type { ChatEvent } from '../../../src/chat-event';
import { webhookReader, type ReceivedWebhook } from '../../../src/platforms/dispatch';
import { META_DISPATCH } from '../../../src/platforms/endpoints';
import { parseLineEnvelope, parseMetaEnvelope } from '../../../src/platforms/envelopes';
import { line } from '../../../src/platforms/line';
import { meta } from '../../../src/platforms/meta';
import type { PlatformWebhook } from '../../../src/platforms/platform';
import { whatsapp } from '../../../src/platforms/whatsapp';

/*
 * A body through one platform module, as the endpoints hand it over: the envelope
 * is checked first (WebhookBodyError when it is not a webhook), then the module reads it.
 */

export function readLine(raw: Buffer, channel = 'line'): PlatformWebhook {
  return line.toChatEvents(parseLineEnvelope(raw), channel);
}

export function lineEvents(raw: Buffer, channel = 'line'): ChatEvent[] {
  return readLine(raw, channel).events;
}

/** Messenger and Instagram bodies through their module (other objects give no events). */
export function readMeta(raw: Buffer, channel = 'facebook'): PlatformWebhook {
  return meta.toChatEvents(parseMetaEnvelope(raw), channel);
}

export function metaEvents(raw: Buffer, channel = 'facebook'): ChatEvent[] {
  return readMeta(raw, channel).events;
}

/** A body as a Meta app's callback URL reads it: dispatched by `object` to every Meta platform. */
export function readMetaEndpoint(raw: Buffer, channel = 'facebook'): ReceivedWebhook {
  return webhookReader(META_DISPATCH)(raw, channel);
}

/** WhatsApp bodies through their module. */
export function readWhatsapp(raw: Buffer, channel = 'whatsapp'): PlatformWebhook {
  return whatsapp.toChatEvents(parseMetaEnvelope(raw), channel);
}

export function whatsappEvents(raw: Buffer, channel = 'whatsapp'): ChatEvent[] {
  return readWhatsapp(raw, channel).events;
}
