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
}

/**
 * One desired tag change for one user. The store keeps one row per
 * `operationKey(op)`; a newer operation for the same key replaces the older one.
 */
export interface TagOperation extends TagAction {
  platform: Platform;
  /**
   * Who the user wrote to: the LINE `destination`, the Facebook page or Instagram
   * account id, the WhatsApp `phone_number_id`. BotBonnie's `bot_pid` comes from it.
   */
  recipient: string;
  userId: string;
}

/** The identity of a desired-state row: (provider, kind, tag, platform, recipient, user). */
export function operationKey(op: Omit<TagOperation, 'action'>): string {
  return JSON.stringify([op.provider, op.kind, op.tagId, op.platform, op.recipient, op.userId]);
}
