import type { Platform } from '../chat-event';

export const PROVIDERS = ['mantago', 'botbonnie'] as const;
export type Provider = (typeof PROVIDERS)[number];

export const TAG_KINDS = ['personal', 'client'] as const;
/** MantaGo's tag kinds; BotBonnie operations always carry `personal`. */
export type TagKind = (typeof TAG_KINDS)[number];

export type TagActionName = 'add' | 'remove';

/** `for:` on an add: the tag is removed again this long after the event (CONTRACT.md, "Lifetimes"). */
export interface TagLifetime {
  ms: number;
  /** As written in the rule, e.g. `7d`. */
  text: string;
  /** The rule whose `for:` this is: the history names it when the tag expires. */
  rule: string;
}

/** What a rule asks for, before it is bound to a user. */
export interface TagAction {
  action: TagActionName;
  provider: Provider;
  kind: TagKind;
  tagId: string;
  /** Only on adds whose rule gives `for:`. */
  lifetime?: TagLifetime;
}

/**
 * One desired tag change for one user. The store keeps one row per
 * `operationKey(op)`; a newer operation for the same key replaces the older one.
 */
export interface TagOperation extends TagAction {
  platform: Platform;
  /** LINE destination / page id / Instagram account id; BotBonnie's `bot_pid` comes from it. */
  channel: string;
  userId: string;
}

/** The identity of a desired-state row: (provider, kind, tag, platform, channel, user). */
export function operationKey(op: Omit<TagOperation, 'action'>): string {
  return JSON.stringify([op.provider, op.kind, op.tagId, op.platform, op.channel, op.userId]);
}
