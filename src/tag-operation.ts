import type { Platform } from './chat-event';
import type { Provider } from './providers';

/*
 * What rules produce and the store keeps: the other end of the pipeline from
 * `chat-event.ts`, and like it a shared vocabulary, so rules, the store, delivery
 * and the providers all see these types without importing each other.
 */

/** The provider names come from the provider list (`src/providers/index.ts`). */
export { PROVIDERS, type Provider } from './providers';

export const TAG_KINDS = ['personal', 'client'] as const;
/** MantaGo's tag kinds; a provider with one kind (BotBonnie) always carries `personal`. */
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
  /** The account the rule named (`account:`); without one, the channel's account for the provider, else the environment's. */
  account?: string;
}

/** One tag change for one user, as a tagger (already bound to its account) sends it. */
export interface TagCall extends Omit<TagAction, 'account' | 'lifetime'> {
  platform: Platform;
  /**
   * Who the user wrote to: the LINE `destination`, the Facebook page or Instagram
   * account id, the WhatsApp `phone_number_id`. BotBonnie's `bot_pid` comes from it.
   */
  recipient: string;
  userId: string;
}

export { NO_ACCOUNT } from './no-account';

/**
 * One desired tag change for one user in one account. The store keeps one row per
 * `operationKey(op)`; a newer operation for the same key replaces the older one.
 */
export interface TagOperation extends TagCall {
  /** Only on adds whose rule gives `for:`. */
  lifetime?: TagLifetime;
  /**
   * The account it is applied in: the environment's are named after their provider
   * (`mantago`, `botbonnie`), the channels file's by their name; NO_ACCOUNT when none.
   */
  account: string;
  /** The channel the event that asked for it came in on (the latest such event); not part of its identity. */
  channel: string;
}

/**
 * The identity of a desired-state row: (account, provider, kind, tag, platform, recipient,
 * user) — two accounts' tags never coalesce.
 */
export function operationKey(op: Omit<TagOperation, 'action' | 'channel'>): string {
  return JSON.stringify([op.account, op.provider, op.kind, op.tagId, op.platform, op.recipient, op.userId]);
}
