import type { Platform } from '../chat-event';
import { skipReason } from '../providers';
import { operationKey, type TagAction, type TagOperation } from '../tag-operation';

export { skipReason };

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

/**
 * Turns what rules ask for into tag operations for one user, each in its account,
 * leaving out what cannot apply to them. Two actions that land on the same
 * operation key (one names the account the other gets by default) are one: the
 * first, as for any two rules asking for one tag.
 */
export function bindOperations(
  actions: readonly TagAction[],
  target: BindTarget,
  accountOf: AccountOf = namedOrEnvironment,
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
    const key = operationKey(op);
    if (keys.includes(key)) continue;
    keys.push(key);
    operations.push(op);
    from.push(action);
  }
  return { operations, actions: from, skipped };
}
