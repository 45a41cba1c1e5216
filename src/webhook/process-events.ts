import type { ChatEvent } from '../chat-event';
import type { AccountRouter } from '../channels/account-router';
import type { Logger } from '../log';
import type { TagOperation } from '../tag-operation';
import { bindOperations, evaluate, type RuleSet } from '../rules';
import type { AcceptedEvent } from '../store/store';

/**
 * Pure CPU work of the request path: each event through the rules, the actions
 * bound to its user in their accounts. Events without a user, and kinds rules
 * cannot ask for, produce nothing.
 */
export interface ProcessedEvents {
  accepted: AcceptedEvent[];
  matched: string[];
  operations: TagOperation[];
}

/**
 * The key that makes a redelivered event a duplicate: per channel (CONTRACT "Once"), so
 * one page subscribed by two Meta apps is tagged in both apps' accounts.
 */
export function dedupKeyOf(event: Pick<ChatEvent, 'channel' | 'platform' | 'eventId'>): string {
  return `${event.channel}/${event.platform}:${event.eventId}`;
}

/**
 * `receivedAt`: when the webhook came. An event time in the future counts as the receipt time
 * (CONTRACT.md, "What an event becomes"), for schedules as for ordering: a platform's clock
 * ahead of ours, or a forged timestamp, cannot make a rule whose schedule has not begun match.
 */
export function processEvents(ruleSet: RuleSet, events: readonly ChatEvent[], accounts: AccountRouter, log: Logger, receivedAt: number): ProcessedEvents {
  const accepted: AcceptedEvent[] = [];
  const matched: string[] = [];
  const operations: TagOperation[] = [];
  for (const event of events) {
    if (event.userId === undefined || event.kind === 'other') continue;
    const evaluation = evaluate(ruleSet, {
      platform: event.platform,
      channel: event.channel,
      kind: event.kind,
      text: event.text,
      postbackData: event.postbackData,
      timestamp: Math.min(event.timestamp, receivedAt),
    });
    const bound = bindOperations(
      evaluation.actions,
      { platform: event.platform, channel: event.channel, recipient: event.recipient, userId: event.userId },
      (action) => accounts.accountFor(action, event.channel),
      (op) => accounts.personOf(op),
    );
    for (const s of bound.skipped) {
      log.warn('tag action skipped', { reason: s.reason, tagId: s.action.tagId, provider: s.action.provider, platform: event.platform, channel: event.channel, eventId: event.eventId });
    }
    accepted.push({ dedupKey: dedupKeyOf(event), event, matched: evaluation.matched, operations: bound.operations });
    matched.push(...evaluation.matched);
    operations.push(...bound.operations);
  }
  return { accepted, matched, operations };
}
