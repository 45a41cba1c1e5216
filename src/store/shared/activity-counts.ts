import type { AcceptBatch, AcceptedEvent, AcceptResult } from '../store';
import type { ActivityRecorder } from './activity-recorder';
import type { OperationSettlement } from './settle';

/**
 * What one committed webhook adds to the /admin charts: the webhook by the platform of
 * its events (one without events, such as LINE's verification, is not counted), and the
 * rules its new events matched.
 */
export function countAccepted(activity: ActivityRecorder, batch: AcceptBatch, result: AcceptResult): void {
  const first = batch.events[0];
  if (!first) return;
  activity.count(batch.now, 'webhook', first.event.platform);
  for (const e of newEventsOf(batch.events, result)) for (const rule of e.matched) activity.count(batch.now, 'rule', rule);
}

/**
 * The events of one stored webhook that were new, as the store found them. The /admin
 * charts and the `autotag_rule_matches_total` series count rule matches of these alone,
 * so a redelivered event is not counted again.
 */
export function newEventsOf(events: readonly AcceptedEvent[], result: Pick<AcceptResult, 'newEvents'>): AcceptedEvent[] {
  return result.newEvents.flatMap((i) => events[i] ?? []);
}

/** A tag call the store recorded: its outcome, and the account when it answered 429. */
export function countSettled(activity: ActivityRecorder, s: OperationSettlement, account: string, sameVersion: boolean, now: number): void {
  const outcome = s.kind === 'complete' ? 'applied' : s.kind === 'dead' && sameVersion ? 'dead' : 'retry';
  activity.count(now, 'call', outcome);
  const status = s.kind === 'complete' ? s.outcome.status : s.kind === 'retry' ? s.retry.status : s.dead.status;
  if (status === 429) activity.count(now, 'throttled', account);
}
