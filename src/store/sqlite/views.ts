import type { DeadLetter, DeadLetterCode, StoreStatus, WorkKind } from '../store';
import type { Provider } from '../../tag-operation';
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
import type { SqliteDb } from './db';

export function statusSqlite(db: SqliteDb, now: number): StoreStatus {
  return {
    operations: toQueueCounts(db.all(OPERATION_COUNTS, [now])[0], now),
    forwards: toQueueCounts(db.all(FORWARD_COUNTS, [now])[0], now),
  };
}

/** One instance: a lease ends when it runs out. */
const NEXT_DUE = nextDueStatements('leased_until');

export function nextDueAtSqlite(db: SqliteDb, kind: WorkKind, scope?: string): number | null {
  const [row] =
    kind === 'forwards'
      ? scope ? db.all(NEXT_DUE.destinationForwards, [scope]) : db.all(NEXT_DUE.forwards)
      : scope ? db.all(NEXT_DUE.providerOperations, [scope]) : db.all(NEXT_DUE.operations);
  return optNum(row?.at, 'at') ?? null;
}

export function listDeadLettersSqlite(db: SqliteDb, limit: number): DeadLetter[] {
  return db.all(DEAD_LETTERS, [limit]).map(toDeadLetter);
}

/** Returns how many rows of each kind were queued again. */
export function retryDeadLettersSqlite(db: SqliteDb, which: 'all' | string[], now: number): Record<WorkKind, number> {
  const ids = which === 'all' ? undefined : parseDeadLetterIds(which);
  return db.tx(() => {
    if (!ids) {
      return { operations: db.run(REQUEUE_ALL_DEAD_OPERATIONS, [now]), forwards: db.run(REQUEUE_ALL_DEAD_FORWARDS, [now]) };
    }
    let operations = 0;
    let forwards = 0;
    for (const id of ids.operations) operations += db.run(REQUEUE_DEAD_OPERATION, [now, id]);
    for (const id of ids.forwards) forwards += db.run(REQUEUE_DEAD_FORWARD, [now, id]);
    return { operations, forwards };
  });
}

export function requeueDeadOperationsSqlite(db: SqliteDb, provider: Provider, code: DeadLetterCode, now: number): number {
  return db.run(REQUEUE_DEAD_OPERATIONS_BY_CODE, [now, provider, code]);
}

export function releaseLeasesSqlite(db: SqliteDb, owner: string | undefined): number {
  return db.tx(() =>
    owner === undefined
      ? db.run(RELEASE_ALL_OPERATION_LEASES) + db.run(RELEASE_ALL_FORWARD_LEASES)
      : db.run(RELEASE_OPERATION_LEASES_OF, [owner]) + db.run(RELEASE_FORWARD_LEASES_OF, [owner]),
  );
}
