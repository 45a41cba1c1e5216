import { WebhookBodyError } from './errors';
import { describeJson, parseJsonObject } from './json-body';
import type { LineEnvelope, MetaEnvelope } from './platform';

/*
 * The top level of a webhook, the only part whose shape decides between 200 and 400
 * (CONTRACT: "not a webhook" is not a JSON object with an `events` array for LINE, or
 * with `object` and an `entry` array for Meta). Everything below is the platform
 * modules' business, and what they cannot read is skipped, never rejected.
 */

/**
 * LINE's envelope. LINE's Verify button sends `events: []`.
 * @throws WebhookBodyError when the body is not a LINE webhook at all
 */
export function parseLineEnvelope(rawBody: Buffer): LineEnvelope {
  const body = parseJsonObject(rawBody);
  if (!Array.isArray(body.events)) throw new WebhookBodyError(`\`events\` must be an array, not ${describeJson(body.events)}`);
  return { destination: typeof body.destination === 'string' ? body.destination : undefined, events: body.events };
}

/**
 * Meta's envelope, shared by Messenger, Instagram and WhatsApp.
 * @throws WebhookBodyError when the body is not a Meta webhook at all
 */
export function parseMetaEnvelope(rawBody: Buffer): MetaEnvelope {
  const body = parseJsonObject(rawBody);
  if (typeof body.object !== 'string') throw new WebhookBodyError(`\`object\` must be a string, not ${describeJson(body.object)}`);
  if (!Array.isArray(body.entry)) throw new WebhookBodyError(`\`entry\` must be an array, not ${describeJson(body.entry)}`);
  return { object: body.object, entry: body.entry };
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
