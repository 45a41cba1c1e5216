import { operationKey } from '../../tag-operation';
import type { AcceptBatch, AcceptResult } from '../store';
import { arrivedExpired, decisionRow, historyRowOf, rememberedFrom, operationRequest, type DecisionRow, type HistoryEventRow, type OperationRequest } from '../shared/accept-rows';

/**
 * What a shared commit will write, worked out before it goes to the database so
 * that one statement can do it: every event key once (sorted), and the history and
 * operations of the events that CAN be new — the first occurrence of each key in
 * the commit; the database then says which of those keys it had not seen before.
 */

export interface PlannedHistory {
  /** The event's dedup key: written only if the key turns out to be new. */
  key: string;
  row: HistoryEventRow;
}

export interface PlannedOperation extends OperationRequest {
  batch: number;
  key: string;
  now: number;
  /** Position of the operation key in sorted order: rows are locked in this order. */
  rank: number;
}

/** A history entry for a request that changes nothing whatever the database holds (an add that arrived expired). */
export interface PlannedDecision {
  /** The event's dedup key: written only if the key turns out to be new. */
  key: string;
  row: DecisionRow;
}

export interface AcceptPlan {
  batches: readonly AcceptBatch[];
  seenKeys: string[];
  /** When each of `seenKeys` was first seen (the `now` of the first batch carrying it). */
  seenAt: number[];
  history: PlannedHistory[];
  /** In commit order; adds that arrived expired are left out (they are `expired`). */
  operations: PlannedOperation[];
  expired: PlannedDecision[];
  /**
   * False when one operation key is asked for differently (another action, event time or
   * lifetime, or through another recipient or channel, which the row takes from the event
   * applied last) in this commit: those must be applied one after the other, each against
   * what the one before left, which one statement cannot do. Requests that are the same
   * are one request: the later ones change nothing.
   */
  oneStatement: boolean;
  /** Per-batch counts, given the keys the database had not seen and the ranks it inserted or changed. */
  results(fresh: ReadonlySet<string>, queuedRanks: ReadonlySet<number>): AcceptResult[];
}

export function planAccept(batches: readonly AcceptBatch[]): AcceptPlan {
  const firstSeenAt = new Map<string, number>();
  const history: PlannedHistory[] = [];
  const expired: PlannedDecision[] = [];
  const candidates: Omit<PlannedOperation, 'rank'>[] = [];
  batches.forEach((b, i) => {
    for (const e of b.events) {
      if (firstSeenAt.has(e.dedupKey)) continue; // a later occurrence in this commit is a duplicate whatever the database says
      firstSeenAt.set(e.dedupKey, rememberedFrom(e, b.now));
      const h = historyRowOf(e, b.now, b.storeText);
      if (h) history.push({ key: e.dedupKey, row: h });
      for (const op of e.operations) {
        const r = operationRequest(op, e, b.now);
        if (arrivedExpired(r, b.now)) expired.push({ key: e.dedupKey, row: decisionRow(r, 'arrived_expired', b.now) });
        else candidates.push({ ...r, batch: i, key: e.dedupKey, now: b.now });
      }
    }
  });

  const opKeys = candidates.map((c) => operationKey(c.op));
  const sorted = [...new Set(opKeys)].sort();
  const rankOf = new Map(sorted.map((k, r) => [k, r]));
  const operations = candidates.map((c, i) => ({ ...c, rank: rankOf.get(opKeys[i] as string) as number }));
  const requestOfRank = new Map<number, string>();
  let oneStatement = true;
  for (const o of operations) {
    const request = JSON.stringify([o.op.action, o.eventAt, o.expiresAt, o.rule, o.op.recipient, o.op.channel]);
    const seen = requestOfRank.get(o.rank);
    if (seen === undefined) requestOfRank.set(o.rank, request);
    else if (seen !== request) oneStatement = false;
  }

  const seenKeys = [...firstSeenAt.keys()].sort();
  return {
    batches,
    seenKeys,
    seenAt: seenKeys.map((k) => firstSeenAt.get(k) as number),
    history,
    operations,
    expired,
    oneStatement,
    results(fresh, queuedRanks) {
      const results: AcceptResult[] = batches.map((b) => ({
        accepted: 0,
        newEvents: [],
        duplicates: 0,
        operationsQueued: 0,
        forwardsQueued: b.forwards.length,
      }));
      const unclaimed = new Set(fresh);
      batches.forEach((b, i) => {
        const r = results[i] as AcceptResult;
        b.events.forEach((e, j) => {
          // Only the first occurrence counts as new.
          if (unclaimed.delete(e.dedupKey)) {
            r.accepted++;
            r.newEvents.push(j);
          } else r.duplicates++;
        });
      });
      // A changed row counts for the request that changed it: the first one of a new event.
      const credited = new Set<number>();
      for (const o of operations) {
        if (!fresh.has(o.key) || !queuedRanks.has(o.rank) || credited.has(o.rank)) continue;
        credited.add(o.rank);
        (results[o.batch] as AcceptResult).operationsQueued++;
      }
      return results;
    },
  };
}
