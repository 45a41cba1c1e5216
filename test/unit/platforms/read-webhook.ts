import type { ChatEvent } from '../../../src/chat-event';
import { CHANNEL_KINDS } from '../../../src/platforms/endpoints';
import { line, parseLineEnvelope } from '../../../src/platforms/line';
import { meta } from '../../../src/platforms/meta';
import { parseMetaEnvelope } from '../../../src/platforms/meta-envelope';
import type { PlatformWebhook, ReceivedWebhook } from '../../../src/platforms/platform';
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
  return CHANNEL_KINDS.find((k) => k.name === 'meta')!.dispatch.read(raw, channel);
}

/** WhatsApp bodies through their module. */
export function readWhatsapp(raw: Buffer, channel = 'whatsapp'): PlatformWebhook {
  return whatsapp.toChatEvents(parseMetaEnvelope(raw), channel);
}

export function whatsappEvents(raw: Buffer, channel = 'whatsapp'): ChatEvent[] {
  return readWhatsapp(raw, channel).events;
}
