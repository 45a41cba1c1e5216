import { carriesPostbackData, carriesText } from '../event-kinds';
import type { PathSegment } from './yaml-source';

/**
 * A `text:` or `postback:` condition beside an `event:` whose kinds never carry that input
 * (CONTRACT.md, Semantics: an event without text fails every `text:` condition, one without
 * postback data every `postback:` condition): only a message has text, and a follow or
 * unfollow has no postback data. The rule is valid and matches nothing, which is rarely what
 * was meant (`event: postback` with `text:` where `postback:` was). Only the top of a `when`
 * is read, where every key must hold. Said as warnings, at the condition; paths are
 * relative to the rule.
 */
export function neverHolding(rawRule: unknown): [PathSegment[], string][] {
  const when = (rawRule as { when?: unknown } | null)?.when;
  if (typeof when !== 'object' || when === null || Array.isArray(when)) return [];
  const { event, text, postback } = when as { event?: unknown; text?: unknown; postback?: unknown };
  const kinds = (Array.isArray(event) ? event : [event]).filter((k): k is string => typeof k === 'string');
  if (event === undefined || kinds.length === 0) return [];
  const named = kinds.join(', ');
  const found: [PathSegment[], string][] = [];
  if (text !== undefined && !kinds.some(carriesText)) {
    found.push([['when', 'text'], `this text condition can never hold: only a message event has text, and this rule's event is ${named}`]);
  }
  if (postback !== undefined && !kinds.some(carriesPostbackData)) {
    found.push([
      ['when', 'postback'],
      `this postback condition can never hold: a ${named} event has no postback data (a postback has, and a message answering a quick reply)`,
    ]);
  }
  return found;
}
