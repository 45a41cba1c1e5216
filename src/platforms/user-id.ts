import type { UnusableUser } from './platform';
import { describeJson } from './json-body';

/**
 * Longer ids are not user ids of any platform this service knows (WhatsApp's are up to ~131
 * characters). Characters are code points: an emoji is one, though two UTF-16 units.
 */
export const MAX_USER_ID_CHARS = 256;

// C0 and C1 controls and DEL: no platform puts them in an id, and they have no place in logs or URLs.
const CONTROL = /\p{Cc}/u;

/** Whether `s` holds a C0 or C1 control character or DEL. */
export function hasControlCharacters(s: string): boolean {
  return CONTROL.test(s);
}

/** The code points of `s` (a lone surrogate is one). */
function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const unit = s.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

// A lone UTF-16 surrogate (JSON's "\ud800") is no character: it has no UTF-8 form, so it could
// not reach a tag API, the store or a log as it came — each would change it in its own way.
const NOT_WELL_FORMED = 'not well-formed UTF-16 (it holds a lone surrogate)';

/** Why `value` cannot be used as a user id, or undefined when it can. */
export function userIdProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return `the user id is ${describeJson(value)}, not a string`;
  if (value.trim() === '') return value === '' ? 'the user id is empty' : 'the user id is only whitespace';
  // Only an id of more UTF-16 units than the limit can have more code points.
  if (value.length > MAX_USER_ID_CHARS) {
    const chars = codePoints(value);
    if (chars > MAX_USER_ID_CHARS) return `the user id is ${chars} characters long (at most ${MAX_USER_ID_CHARS})`;
  }
  if (CONTROL.test(value)) return 'the user id holds control characters';
  if (!value.isWellFormed()) return `the user id is ${NOT_WELL_FORMED}`;
  return undefined;
}

/**
 * A user id as read from a payload: undefined when there is none (`undefined` or
 * `null`), the id when it can be used, and undefined with the reason added to
 * `unusable` when it cannot — the event is then kept, without a user. `recipient`
 * is the bot's own id the event came to: one that is not well-formed UTF-16 cannot
 * name the bot at a tag API either, so its events have no user.
 */
export function readUserId(value: unknown, eventId: string, recipient: string, unusable: UnusableUser[]): string | undefined {
  if (value === undefined || value === null) return undefined;
  const problem = recipient.isWellFormed() ? userIdProblem(value) : `the recipient id is ${NOT_WELL_FORMED}`;
  if (problem === undefined) return value as string;
  unusable.push({ eventId, problem });
  return undefined;
}
