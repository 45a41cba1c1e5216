import type { UnusableUser } from './platform';
import { describeJson } from './json-body';

/** Longer ids are not user ids of any platform this service knows (WhatsApp's are up to ~131 characters). */
export const MAX_USER_ID_CHARS = 256;

// C0 and C1 controls and DEL: no platform puts them in an id, and they have no place in logs or URLs.
const CONTROL = /\p{Cc}/u;

/** Why `value` cannot be used as a user id, or undefined when it can. */
export function userIdProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return `the user id is ${describeJson(value)}, not a string`;
  if (value.trim() === '') return value === '' ? 'the user id is empty' : 'the user id is only whitespace';
  if (value.length > MAX_USER_ID_CHARS) return `the user id is ${value.length} characters long (at most ${MAX_USER_ID_CHARS})`;
  if (CONTROL.test(value)) return 'the user id holds control characters';
  return undefined;
}

/**
 * A user id as read from a payload: undefined when there is none (`undefined` or
 * `null`), the id when it can be used, and undefined with the reason added to
 * `unusable` when it cannot — the event is then kept, without a user.
 */
export function readUserId(value: unknown, eventId: string, unusable: UnusableUser[]): string | undefined {
  if (value === undefined || value === null) return undefined;
  const problem = userIdProblem(value);
  if (problem === undefined) return value as string;
  unusable.push({ eventId, problem });
  return undefined;
}
