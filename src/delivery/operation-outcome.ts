import type { ClaimedOperation } from '../store/store';
import { formatDuration } from '../format-time';
import { gaveUpEarlyNote, nextAttemptDelay, retryDueAt } from './backoff';

/**
 * What to do with an operation after a failed attempt — a pure decision, so
 * each rule of CONTRACT.md's "Retries" paragraph has one place and one test.
 */
export interface FailureFacts {
  retryable: boolean;
  notFound: boolean;
  retryAfterMs?: number;
  reason: string;
}

export interface RetryPolicy {
  minMs: number;
  maxMs: number;
  giveUpMs: number;
  notFoundTimes: number;
}

export type FailureDecision =
  | { kind: 'retry'; dueAt: number }
  | { kind: 'dead'; reason: string };

export function decideAfterFailure(
  op: Pick<ClaimedOperation, 'attempts' | 'notFoundCount' | 'requestedAt'>,
  failure: FailureFacts,
  policy: RetryPolicy,
  now: number,
  random?: () => number,
): FailureDecision {
  if (!failure.retryable) return { kind: 'dead', reason: failure.reason };
  if (failure.notFound && op.notFoundCount >= policy.notFoundTimes) {
    return {
      kind: 'dead',
      reason: `${failure.reason} — still unknown after ${policy.notFoundTimes} retries (RETRY_404_TIMES)`,
    };
  }
  const delay = nextAttemptDelay(op.attempts, { minMs: policy.minMs, maxMs: policy.maxMs, random }, failure.retryAfterMs);
  const window = { startedAt: op.requestedAt, giveUpMs: policy.giveUpMs };
  const dueAt = retryDueAt(now, delay, window, policy.minMs);
  if (dueAt === undefined) {
    return {
      kind: 'dead',
      reason: `${failure.reason} — gave up after ${formatDuration(now - op.requestedAt)} (RETRY_GIVE_UP_MS${gaveUpEarlyNote(now, window, policy.minMs)})`,
    };
  }
  return { kind: 'retry', dueAt };
}
