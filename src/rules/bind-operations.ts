import type { Platform } from '../chat-event';
import { skipReason } from '../providers';
import type { TagAction, TagOperation } from '../tag-operation';

export { skipReason };

/** Turns what rules ask for into tag operations for one user, leaving out what cannot apply to them. */
export function bindOperations(
  actions: readonly TagAction[],
  target: { platform: Platform; recipient: string; userId: string },
): { operations: TagOperation[]; skipped: { action: TagAction; reason: string }[] } {
  const operations: TagOperation[] = [];
  const skipped: { action: TagAction; reason: string }[] = [];
  for (const action of actions) {
    const reason = skipReason(action, target.platform);
    if (reason) skipped.push({ action, reason });
    else
      operations.push({
        action: action.action,
        provider: action.provider,
        kind: action.kind,
        tagId: action.tagId,
        ...(action.lifetime ? { lifetime: action.lifetime } : {}),
        platform: target.platform,
        recipient: target.recipient,
        userId: target.userId,
      });
  }
  return { operations, skipped };
}
