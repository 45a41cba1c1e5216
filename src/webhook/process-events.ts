import type { ChatEvent } from '../chat-event';
import type { Logger } from '../log';
import type { TagOperation } from '../tag-operation';
import { bindOperations, evaluate, type RuleSet } from '../rules';
import type { AcceptedEvent } from '../store/store';

/**
 * Pure CPU work of the request path: each event through the rules, the actions
 * bound to its user. Events without a user, and kinds rules cannot ask for,
 * produce nothing.
 */
export interface ProcessedEvents {
  accepted: AcceptedEvent[];
  matched: string[];
  operations: TagOperation[];
}

export function processEvents(ruleSet: RuleSet, events: readonly ChatEvent[], log: Logger): ProcessedEvents {
  const accepted: AcceptedEvent[] = [];
  const matched: string[] = [];
  const operations: TagOperation[] = [];
  for (const event of events) {
    if (event.userId === undefined || event.kind === 'other') continue;
    const evaluation = evaluate(ruleSet, {
      platform: event.platform,
      kind: event.kind,
      text: event.text,
      postbackData: event.postbackData,
      timestamp: event.timestamp,
    });
    const bound = bindOperations(evaluation.actions, { platform: event.platform, recipient: event.recipient, userId: event.userId });
    for (const s of bound.skipped) {
      log.warn('tag action skipped', { reason: s.reason, tagId: s.action.tagId, provider: s.action.provider, platform: event.platform, channel: event.channel, eventId: event.eventId });
    }
    accepted.push({ dedupKey: `${event.platform}:${event.eventId}`, event, matched: evaluation.matched, operations: bound.operations });
    matched.push(...evaluation.matched);
    operations.push(...bound.operations);
  }
  return { accepted, matched, operations };
}
