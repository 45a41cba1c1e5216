import type { Platform } from '../chat-event';
import type { TagAction, TagOperation } from '../providers/tag-operation';

/** Why an action cannot be carried out for a user of `platform`, or undefined when it can. */
export function skipReason(action: TagAction, platform: Platform): string | undefined {
  // BotBonnie knows LINE and Messenger users only; an Instagram sender id means nothing to it.
  if (action.provider === 'botbonnie' && platform === 'instagram') return 'Instagram users are not BotBonnie users';
  return undefined;
}

/** Turns what rules ask for into tag operations for one user, leaving out what cannot apply to them. */
export function bindOperations(
  actions: readonly TagAction[],
  target: { platform: Platform; channel: string; userId: string },
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
        channel: target.channel,
        userId: target.userId,
      });
  }
  return { operations, skipped };
}
