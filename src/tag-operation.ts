import type { Platform } from './chat-event';
import { providerNamed, type Provider } from './providers';

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
  /**
   * Who the person is at the provider when the account says so rather than the recipient
   * (BotBonnie's LINE pid: `line_pid`, BOTBONNIE_LINE_PID); fixed when the operation is
   * accepted, set only where it differs from what `personScope` would take without it.
   */
  person?: string;
}

/**
 * Who the person is at the provider, beyond the platform and user id: `''` where the
 * provider identifies a person by those alone (MantaGo: `platform`, `platformClientId`),
 * where it also goes by whom they wrote to (BotBonnie: `bot_pid`) what it is sent: the
 * operation's `person` when the account sets one (a LINE pid set by BOTBONNIE_LINE_PID or
 * an account's `line_pid`, shared by every LINE destination of that account), else the
 * recipient (the page id or LINE destination).
 */
export function personScope(op: Pick<TagOperation, 'provider' | 'recipient' | 'person'>): string {
  if (op.person !== undefined) return op.person;
  return providerNamed(op.provider).personByRecipient ? op.recipient : '';
}

/** The columns of a desired-state row's identity (the store's unique key, in its order). */
export interface OperationIdentity {
  account: string;
  provider: Provider;
  kind: TagKind;
  tagId: string;
  platform: Platform;
  personScope: string;
  userId: string;
}

export function identityKey(k: OperationIdentity): string {
  return JSON.stringify([k.account, k.provider, k.kind, k.tagId, k.platform, k.personScope, k.userId]);
}

/**
 * The identity of a desired-state row: one tag of one person at one provider account
 * (CONTRACT.md, "Order") — (account, provider, kind, tag, platform, person scope, user).
 * Two accounts' tags never coalesce; for MantaGo, one user's events to two recipients do.
 */
export function operationKey(op: Omit<TagOperation, 'action' | 'channel'>): string {
  return identityKey({ ...op, personScope: personScope(op) });
}
