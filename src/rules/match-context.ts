import type { ChatEvent, Platform } from '../chat-event';

/** What rules are evaluated against: the parts of a ChatEvent rules can see. */
export interface RuleEvent {
  platform: Platform;
  /** The channel it came in on; default: the environment's channel of the platform (`line`, `facebook`, `whatsapp`). */
  channel?: string;
  kind: ChatEvent['kind'];
  text?: string;
  postbackData?: string;
  /** Milliseconds since the epoch: "now" for schedules. */
  timestamp: number;
}

/**
 * The event, prepared once per evaluation and read by every compiled condition:
 * normalised text, postback data, and which literal patterns occur in the text.
 * A rule set owns one and refills it for each event, so evaluation allocates
 * nothing per condition.
 */
export interface MatchContext {
  platform: Platform;
  channel: string;
  kind: ChatEvent['kind'];
  hasText: boolean;
  /** NFKC-normalised and trimmed: for case-sensitive patterns and regexes. */
  textCased: string;
  /** …and lower-cased: for every other pattern. */
  textFolded: string;
  hasData: boolean;
  data: string;
  timestamp: number;
  /** `patternSeen[id] === round` when literal pattern `id` occurs in the text. */
  patternSeen: Int32Array;
  round: number;
}

export type Condition = (ctx: MatchContext) => boolean;
