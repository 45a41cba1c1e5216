import type { AttemptOutcome, ClaimedOperation, DeadLetterRequest, HistoryCall, RetryRequest } from '../store';
import { COMPLETE_OPERATION, DEAD_LETTER_OPERATION, INSERT_HISTORY_CALL, RETRY_OPERATION } from '../sql/operations';
import { clipReason, outcomeColumns, wasAttempt } from './accept-rows';
import { num, type Row } from './rows';

/**
 * How a claimed row is settled, shared by both engines: which statement to run
 * with which parameters, and what the row it returns means.
 */
export type OperationSettlement =
  | { kind: 'complete'; outcome: AttemptOutcome }
  | { kind: 'retry'; retry: RetryRequest }
  | { kind: 'dead'; dead: DeadLetterRequest };

type Params = (string | number | null)[];

export function operationSettleStatement(
  s: OperationSettlement,
  op: ClaimedOperation,
  owner: string,
  now: number,
): { sql: string; params: Params } {
  const head: Params = [op.id, owner, op.version, now];
  switch (s.kind) {
    case 'complete': {
      const o = outcomeColumns(s.outcome);
      return { sql: COMPLETE_OPERATION, params: [...head, o.status, o.error, o.excerpt] };
    }
    case 'retry': {
      const o = outcomeColumns(s.retry);
      return { sql: RETRY_OPERATION, params: [...head, s.retry.dueAt, s.retry.notFound ? 1 : 0, o.status, o.error, o.excerpt] };
    }
    case 'dead': {
      const o = outcomeColumns(s.dead);
      const reason = clipReason(s.dead.reason);
      return { sql: DEAD_LETTER_OPERATION, params: [...head, reason, wasAttempt(s.dead) ? 1 : 0, o.status, o.error, o.excerpt, s.dead.code ?? null] };
    }
  }
}

/**
 * What the history says about an attempt: a success is `applied` even when a newer
 * version is already waiting (the call did happen); a failure whose version moved is
 * `superseded` — the newer desired state will be applied instead.
 */
function outcomeOf(kind: OperationSettlement['kind'], sameVersion: boolean): HistoryCall['outcome'] {
  if (kind === 'complete') return 'applied';
  if (!sameVersion) return 'superseded';
  return kind === 'retry' ? 'retry' : 'dead';
}

export interface SettledOperation {
  /** The row was still leased by this owner (otherwise nothing was changed). */
  touched: boolean;
  sameVersion: boolean;
  /** The INSERT of the history call to run in the same transaction, when touched. */
  history?: { sql: string; params: Params };
}

/** The operation as a history entry keeps it (TagOperation's JSON). */
export function historyOperation(op: ClaimedOperation): string {
  const { action, provider, kind, tagId, platform, recipient, userId, account, channel } = op;
  return JSON.stringify({ action, provider, kind, tagId, platform, recipient, userId, account, channel });
}

export function settledOperation(s: OperationSettlement, op: ClaimedOperation, now: number, rows: Row[]): SettledOperation {
  const [row] = rows;
  if (!row) return { touched: false, sameVersion: false };
  const sameVersion = num(row.version, 'version') === op.version;
  const attempt = s.kind === 'complete' ? s.outcome : s.kind === 'retry' ? s.retry : s.dead;
  const o = outcomeColumns(attempt);
  const operation = historyOperation(op);
  const error = s.kind === 'dead' ? clipReason(s.dead.reason) : o.error;
  return {
    touched: true,
    sameVersion,
    history: {
      sql: INSERT_HISTORY_CALL,
      params: [now, op.userId, operation, op.version, outcomeOf(s.kind, sameVersion), o.status, error],
    },
  };
}

export function retryForwardParams(id: number, owner: string, retry: RetryRequest): Params {
  const o = outcomeColumns(retry);
  return [id, owner, retry.dueAt, o.status, o.error, o.excerpt];
}

export function deadForwardParams(id: number, owner: string, now: number, dead: DeadLetterRequest): Params {
  const o = outcomeColumns(dead);
  return [id, owner, now, clipReason(dead.reason), wasAttempt(dead) ? 1 : 0, o.status, o.error, o.excerpt];
}
