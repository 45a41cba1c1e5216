import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookBodyError } from './errors';
import { describeJson, parseJsonObject } from './json-body';
import type { Envelope, MetaEnvelope, MetaPlatformModule, SignatureScheme } from './platform';

/*
 * What Messenger, Instagram and WhatsApp share: Meta's envelope (`object` and an
 * `entry` array), dispatched by `object` to the module that reads it, and Meta's
 * signature. The modules name these; each owns the rest of its platform.
 */

/**
 * Meta's envelope. CONTRACT: "not a webhook" is not a JSON object with `object` (of
 * any value) and an `entry` array; everything below is the modules' business, and what they cannot
 * read is skipped, never rejected.
 * @throws WebhookBodyError when the body is not a Meta webhook at all
 */
export function parseMetaEnvelope(rawBody: Buffer): MetaEnvelope {
  const body = parseJsonObject(rawBody);
  if (body.object === undefined) throw new WebhookBodyError('`object` is missing');
  if (!Array.isArray(body.entry)) throw new WebhookBodyError(`\`entry\` must be an array, not ${describeJson(body.entry)}`);
  // An `object` that is not a string (5, null, {…}) is an object no module reads (200, nothing),
  // named by its JSON text, which no module's object name equals.
  return { object: typeof body.object === 'string' ? body.object : jsonTextOf(body.object), entry: body.entry };
}

/**
 * A parsed JSON value's text; for one nested too deep to serialize on the stack (thousands of
 * levels fit in a body), its kind: JSON.stringify throws nothing else on a parsed value (no
 * cycles, no BigInts), and the throw would have been a 500 on every delivery.
 */
function jsonTextOf(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return `${describeJson(value)} nested too deep to name`;
  }
}

/**
 * The recipient a Meta webhook names when no module reads its object: its first
 * entry's id, else the object. Only the ordering key of its forwards depends on it.
 */
export function metaEnvelopeRecipient(body: MetaEnvelope): string {
  const first: unknown = body.entry[0];
  const id = typeof first === 'object' && first !== null ? (first as { id?: unknown }).id : undefined;
  return typeof id === 'string' && id !== '' ? id : body.object;
}

/** Meta's envelope: a body goes to the module that reads its `object`; another object is answered 200 and forwarded. */
export const META_ENVELOPE: Envelope<MetaEnvelope, MetaPlatformModule> = {
  name: 'meta',
  reader(modules) {
    // A Map, not an object literal: `object: "__proto__"` or `"toString"` must be unknown, not a prototype's member.
    const byObject = new Map<string, MetaPlatformModule>();
    for (const platform of modules) for (const object of platform.objects) byObject.set(object, platform);
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
  },
};

const META_SIGNATURE_FORM = /^sha256=([0-9a-f]{64})$/i;

/**
 * `X-Hub-Signature-256: sha256=<hex>`, in constant time. Meta signs the body as sent,
 * with non-ASCII characters escaped (`\u6211`), so a re-serialized body would not match.
 * https://developers.facebook.com/docs/messenger-platform/webhooks#validate-payloads
 */
export function verifyMetaSignature(rawBody: Buffer, header: string | undefined, appSecret: string): boolean {
  if (typeof header !== 'string' || appSecret === '') return false;
  const hex = META_SIGNATURE_FORM.exec(header)?.[1];
  if (hex === undefined) return false;
  const given = Buffer.from(hex, 'hex');
  const expected = createHmac('sha256', appSecret).update(rawBody).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export const META_SIGNATURE: SignatureScheme = {
  header: 'x-hub-signature-256',
  wellFormed: (signature) => META_SIGNATURE_FORM.test(signature),
  verify: verifyMetaSignature,
};
