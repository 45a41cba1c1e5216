import { carriesPostbackData, carriesText } from '../event-kinds';
import type { RuleCatalogue } from './catalogue';
import type { PathSegment } from './yaml-source';

/** What the rule's `platform:` condition is judged against: the channels rules may name, and the file's `defaults.channel`. */
export interface ChannelsInForce {
  catalogue: RuleCatalogue;
  defaultChannels: readonly string[] | undefined;
}

const list = (value: unknown): string[] => (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');

/**
 * A `text:` or `postback:` condition beside an `event:` whose kinds never carry that input
 * (CONTRACT.md, Semantics: an event without text fails every `text:` condition, one without
 * postback data every `postback:` condition): only a message has text, and a follow or
 * unfollow has no postback data. And a `platform:` condition none of whose platforms comes in
 * on the rule's channels (its own `channel:`, else the file's `defaults.channel`): an event's
 * platform is one its channel receives. The rule is valid and matches nothing, which is rarely
 * what was meant (`event: postback` with `text:` where `postback:` was). Only the top of a
 * `when` is read, where every key must hold. Said as warnings, at the condition; paths are
 * relative to the rule.
 */
export function neverHolding(rawRule: unknown, channels: ChannelsInForce): [PathSegment[], string][] {
  const when = (rawRule as { when?: unknown } | null)?.when;
  if (typeof when !== 'object' || when === null || Array.isArray(when)) return [];
  const { event, text, postback } = when as { event?: unknown; text?: unknown; postback?: unknown };
  const found: [PathSegment[], string][] = [];
  const platform = platformApart(when, channels);
  if (platform) found.push([['when', 'platform'], platform]);
  const kinds = list(event);
  if (event === undefined || kinds.length === 0) return found;
  const named = kinds.join(', ');
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

/**
 * Why the `platform:` condition can never hold on the rule's channels, or undefined when it can
 * (or cannot be judged: a channel that is not declared is an error of its own).
 */
function platformApart(when: object, { catalogue, defaultChannels }: ChannelsInForce): string | undefined {
  const { platform, channel } = when as { platform?: unknown; channel?: unknown };
  const asked = list(platform);
  const ids = channel !== undefined ? list(channel) : (defaultChannels ?? []);
  if (platform === undefined || asked.length === 0 || ids.length === 0) return undefined;
  const received = new Set<string>();
  for (const id of ids) {
    const platforms = catalogue.channels.get(id);
    if (platforms === undefined) return undefined;
    for (const p of platforms) received.add(p);
  }
  if (asked.some((p) => received.has(p))) return undefined;
  const receive =
    channel === undefined ? `this file's defaults.channel (${ids.join(', ')}) receives` : ids.length === 1 ? `the rule's channel ${ids[0]} receives` : `the rule's channels ${ids.join(', ')} receive`;
  return `this platform condition can never hold: ${receive} only ${[...received].join(', ')} webhooks, and this rule's platform is ${asked.join(', ')}`;
}
