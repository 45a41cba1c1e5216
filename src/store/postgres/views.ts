import type { Provider } from '../../tag-operation';
import type { DeadLetter, DeadLetterCode, StoreStatus, WorkKind } from '../store';
import { parseDeadLetterIds } from '../shared/dead-letter-ids';
import { optNum, toDeadLetter, toQueueCounts } from '../shared/rows';
import {
  DEAD_LETTERS,
  FORWARD_COUNTS,
  nextDueStatements,
  OPERATION_COUNTS,
  RELEASE_ALL_FORWARD_LEASES,
  RELEASE_ALL_OPERATION_LEASES,
  RELEASE_FORWARD_LEASES_OF,
  RELEASE_OPERATION_LEASES_OF,
  REQUEUE_ALL_DEAD_FORWARDS,
  REQUEUE_ALL_DEAD_OPERATIONS,
  REQUEUE_DEAD_FORWARD,
  REQUEUE_DEAD_OPERATION,
  REQUEUE_DEAD_OPERATIONS_BY_CODE,
} from '../sql/views';
import type { Notify, Query } from './db';
import { LEASE_END } from './liveness';

/** Wakes a worker when a gone holder's lease comes back, not only when it runs out. */
const NEXT_DUE = nextDueStatements(LEASE_END);

export async function statusPostgres(q: Query, now: number): Promise<StoreStatus> {
  const [ops, fwd] = await Promise.all([q(OPERATION_COUNTS, [now]), q(FORWARD_COUNTS, [now])]);
  return { operations: toQueueCounts(ops.rows[0], now), forwards: toQueueCounts(fwd.rows[0], now) };
}

export async function nextDueAtPostgres(q: Query, kind: WorkKind, scope?: string): Promise<number | null> {
  const { rows } =
    kind === 'forwards'
      ? await (scope ? q(NEXT_DUE.destinationForwards, [scope]) : q(NEXT_DUE.forwards))
      : await (scope ? q(NEXT_DUE.providerOperations, [scope]) : q(NEXT_DUE.operations));
  return optNum(rows[0]?.at, 'at') ?? null;
}

export async function listDeadLettersPostgres(q: Query, limit: number): Promise<DeadLetter[]> {
  return (await q(DEAD_LETTERS, [limit])).rows.map(toDeadLetter);
}

async function wakeOthers(q: Query, notify: Notify, counts: Record<WorkKind, number>): Promise<Record<WorkKind, number>> {
  if (counts.operations > 0) await notify(q, 'operations');
  if (counts.forwards > 0) await notify(q, 'forwards');
  return counts;
}

/** Call inside a transaction. */
export async function retryDeadLettersPostgres(
  q: Query,
  which: 'all' | string[],
  now: number,
  notify: Notify,
): Promise<Record<WorkKind, number>> {
  if (which === 'all') {
    const operations = (await q(REQUEUE_ALL_DEAD_OPERATIONS, [now])).rowCount;
    const forwards = (await q(REQUEUE_ALL_DEAD_FORWARDS, [now])).rowCount;
    return wakeOthers(q, notify, { operations, forwards });
  }
  const ids = parseDeadLetterIds(which);
  let operations = 0;
  let forwards = 0;
  for (const id of ids.operations) operations += (await q(REQUEUE_DEAD_OPERATION, [now, id])).rowCount;
  for (const id of ids.forwards) forwards += (await q(REQUEUE_DEAD_FORWARD, [now, id])).rowCount;
  return wakeOthers(q, notify, { operations, forwards });
}

/** Call inside a transaction. */
export async function requeueDeadOperationsPostgres(
  q: Query,
  provider: Provider,
  code: DeadLetterCode,
  now: number,
  notify: Notify,
): Promise<number> {
  const operations = (await q(REQUEUE_DEAD_OPERATIONS_BY_CODE, [now, provider, code])).rowCount;
  return (await wakeOthers(q, notify, { operations, forwards: 0 })).operations;
}

/** Call inside a transaction. */
export async function releaseLeasesPostgres(q: Query, owner: string | undefined, notify: Notify): Promise<number> {
  const counts =
    owner === undefined
      ? { operations: (await q(RELEASE_ALL_OPERATION_LEASES)).rowCount, forwards: (await q(RELEASE_ALL_FORWARD_LEASES)).rowCount }
      : {
          operations: (await q(RELEASE_OPERATION_LEASES_OF, [owner])).rowCount,
          forwards: (await q(RELEASE_FORWARD_LEASES_OF, [owner])).rowCount,
        };
  await wakeOthers(q, notify, counts);
  return counts.operations + counts.forwards;
}
