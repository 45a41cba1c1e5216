import type { Platform } from '../chat-event';
import { hasControlCharacters } from '../platforms/user-id';
import { providerNamed, skipReason } from '../providers';
import { operationKey, personScope, type TagAction, type TagOperation } from '../tag-operation';


/** The user an event is about, where it came in, and whom it was written to. */
export interface BindTarget {
  platform: Platform;
  channel: string;
  recipient: string;
  userId: string;
}

/**
 * Which account an action goes to. The default is the request path's rule without a
 * channels file: the account the action names, else the environment's (named after its provider).
 */
export type AccountOf = (action: TagAction) => string;
const namedOrEnvironment: AccountOf = (action) => action.account ?? action.provider;

/** Who the operation's person is at its provider when its account says so (AccountRouter.personOf); undefined: the recipient. */
export type PersonOf = (op: TagOperation) => string | undefined;

/**
 * Turns what rules ask for into tag operations for one user, each in its account (as
 * the person that account says the user is, `personOf`), leaving out what cannot apply
 * to them. Two actions that land on the same operation key (one names the account the
 * other gets by default) are one: the first, as for any two rules asking for one tag.
 */
export function bindOperations(
  actions: readonly TagAction[],
  target: BindTarget,
  accountOf: AccountOf = namedOrEnvironment,
  personOf?: PersonOf,
): { operations: TagOperation[]; actions: TagAction[]; skipped: { action: TagAction; reason: string }[] } {
  const operations: TagOperation[] = [];
  /** The action each operation comes from. */
  const from: TagAction[] = [];
  const skipped: { action: TagAction; reason: string }[] = [];
  const keys: string[] = [];
  for (const action of actions) {
    const reason = skipReason(action, target.platform);
    if (reason) {
      skipped.push({ action, reason });
      continue;
    }
    const op: TagOperation = {
      action: action.action,
      provider: action.provider,
      kind: action.kind,
      tagId: action.tagId,
      ...(action.lifetime ? { lifetime: action.lifetime } : {}),
      platform: target.platform,
      recipient: target.recipient,
      userId: target.userId,
      account: accountOf(action),
      channel: target.channel,
    };
    const person = personOf?.(op);
    // Only where it changes the key: otherwise the operation reads as it always did (history JSON).
    if (person !== undefined && person !== personScope(op)) op.person = person;
    // A provider that names the bot by the recipient (BotBonnie's bot_pid) would get such an id in
    // the store's escaped form (U+0000 as `\u0000`), not as it came: the action cannot apply.
    const scope = personScope(op);
    if (hasControlCharacters(scope)) {
      const { title } = providerNamed(op.provider);
      skipped.push({ action, reason: `${title} names the bot by the recipient id ${JSON.stringify(scope)}, which holds control characters: it could not reach ${title} as it came` });
      continue;
    }
    const key = operationKey(op);
    if (keys.includes(key)) continue;
    keys.push(key);
    operations.push(op);
    from.push(action);
  }
  return { operations, actions: from, skipped };
}
