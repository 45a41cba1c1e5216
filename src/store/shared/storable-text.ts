import { createHash } from 'node:crypto';
import type { AcceptBatch, AcceptedEvent } from '../store';

/*
 * PostgreSQL's text cannot hold U+0000 (`invalid byte sequence for encoding "UTF8": 0x00`),
 * and SQLite's own functions stop at it. Anything a platform sends is data (CONTRACT.md,
 * "What an event becomes"), so before a value reaches either engine every NUL is written
 * as the six characters `\u0000` — the same in both engines, and readable in the history.
 * Other control characters are stored as they are: both engines keep them intact.
 *
 * A lone UTF-16 surrogate (JSON may carry `"\ud800"`) has no UTF-8 form: each engine's
 * driver replaced it in its own way (SQLite with three U+FFFD, PostgreSQL with one), so the
 * same event read back differently on each. Every value is made well-formed first, one
 * U+FFFD per lone surrogate (String.prototype.toWellFormed), the same on both engines.
 *
 * Both are display forms and lossy: `X\u0000` stored may have been the character or the six
 * characters, `\uFFFD` a lone surrogate or the character. That is fine for the history and
 * for ids people read, never for a key that must tell events apart: see storableKey.
 */

const NUL = /\u0000/g;

/** `s` as both engines can store it in a text column (a lossy display form, see above). */
export function storableText(s: string): string {
  const wellFormed = s.isWellFormed() ? s : s.toWellFormed();
  return wellFormed.includes('\u0000') ? wellFormed.replace(NUL, '\\u0000') : wellFormed;
}

/** Begins a key stored as the hash of the original: no dedup key of an event begins so (they begin with a channel id). */
export const HASHED_KEY_MARKER = '#sha256:';

/**
 * The longest key stored as it is, in UTF-8 bytes. PostgreSQL cannot index a value of more
 * than about 2,700 bytes (a third of a page), and a Messenger or Instagram postback's key holds
 * its payload, which may be 1,000 characters long
 * (https://developers.facebook.com/docs/messenger-platform/reference/buttons/postback): in
 * Chinese, 3,000 bytes.
 */
export const MAX_PLAIN_KEY_BYTES = 2000;

/**
 * A dedup key as both engines can store it, one to one: two different keys are never
 * stored alike (storableText's display form would make the postback payload "X" + U+0000
 * and the literal text `X\u0000` one event, and drop the second as a duplicate). A key
 * that holds U+0000 or a lone surrogate, is longer than MAX_PLAIN_KEY_BYTES — or already
 * begins with the marker — is stored as the marker and a SHA-256 of its UTF-16 code units
 * (which keep lone surrogates as they are); every other key is stored as it is, as before,
 * so events stored by an earlier release are still recognised when they are delivered again.
 */
export function storableKey(key: string): string {
  if (!key.includes('\u0000') && key.isWellFormed() && !key.startsWith(HASHED_KEY_MARKER) && !tooLong(key)) return key;
  return HASHED_KEY_MARKER + createHash('sha256').update(key, 'utf16le').digest('hex');
}

/** A UTF-16 unit is at most 3 UTF-8 bytes: most keys are short enough not to be measured. */
function tooLong(key: string): boolean {
  return key.length * 3 > MAX_PLAIN_KEY_BYTES && Buffer.byteLength(key, 'utf8') > MAX_PLAIN_KEY_BYTES;
}

function storableOptional(s: string | undefined): string | undefined {
  return s === undefined ? undefined : storableText(s);
}

function storableEvent(e: AcceptedEvent): AcceptedEvent {
  const ev = e.event;
  return {
    dedupKey: storableKey(e.dedupKey),
    matched: e.matched.map(storableText),
    event: {
      ...ev,
      channel: storableText(ev.channel),
      recipient: storableText(ev.recipient),
      userId: storableOptional(ev.userId),
      type: storableText(ev.type),
      text: storableOptional(ev.text),
      postbackData: storableOptional(ev.postbackData),
      eventId: storableText(ev.eventId),
    },
    operations: e.operations.map((op) => ({ ...op, tagId: storableText(op.tagId), recipient: storableText(op.recipient), userId: storableText(op.userId), channel: storableText(op.channel) })),
  };
}

/** A webhook's batch with every text value storable (forward bodies are bytes and stay as they are). */
export function storableBatch(batch: AcceptBatch): AcceptBatch {
  return {
    ...batch,
    events: batch.events.map(storableEvent),
    forwards: batch.forwards.map((f) => ({
      ...f,
      // Made storable as a display form (it is shown with dead letters), then bounded like a dedup key:
      // a recipient may be any length (a LINE destination, a Meta object's name), and the index that
      // finds each key's oldest forward refuses an entry past about 2,700 bytes. Equal keys stay equal.
      orderingKey: storableKey(storableText(f.orderingKey)),
      headers: Object.fromEntries(Object.entries(f.headers).map(([k, v]) => [storableText(k), storableText(v)])),
    })),
  };
}
