import type { AccountScope, DeadLetter, DeadLetterCode, DeadLetterCursor, PersonScopeRequest, RescopeResult, StoreStatus, WorkKind } from '../store';
import type { Provider } from '../../tag-operation';
import { deadLetterPageParams, parseDeadLetterIds } from '../shared/dead-letter-ids';
import { optNum, toDeadLetter, toOperationCounts, toQueueCounts, toRunningLifetimes, type Row } from '../shared/rows';
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
  DEAD_OPERATION_ACCOUNT,
  DISCARD_DEAD_OPERATION,
  DISCARD_ALL_DEAD_OPERATIONS,
  DISCARD_DEAD_FORWARD,
  DISCARD_ALL_DEAD_FORWARDS,
  DEAD_FORWARD_DESTINATION,
  DEAD_FORWARD_DESTINATIONS,
  ACCOUNTLESS_OPERATIONS,
  ASSIGN_ACCOUNT,
  RESCOPE_MERGE,
  RESCOPE_NEEDED,
  RESCOPE_PERSONS,
  RUNNING_LIFETIMES,
  unlistedAccounts,
} from '../sql/views';
import { DELETE_BODY_IF_UNUSED } from '../sql/forwards';
import { markRequeuedHeadsSqlite } from './forwards';
import type { SqliteDb } from './db';
import type { SqliteReader } from './reader';

/** The queue counts, read on the reading thread (see SqliteReader): they read every pending row. */
export async function statusSqlite(reader: SqliteReader, now: number): Promise<Omit<StoreStatus, 'pauses'>> {
  const [ops, fwd, lifetimes] = await reader.read([OPERATION_COUNTS, FORWARD_COUNTS, RUNNING_LIFETIMES].map((sql) => ({ sql, params: [now] })));
  return {
    ...toOperationCounts(ops ?? [], now),
    forwards: toQueueCounts(fwd?.[0], now),
    lifetimes: toRunningLifetimes(lifetimes?.[0]),
  };
}

/** `account NOT IN (…)`, the list bound as one JSON array (of the accounts the table holds: `unlistedAccounts`). */
export const OTHER_ACCOUNTS_SQLITE = (param: string) => `account IN (${unlistedAccounts(`account NOT IN (SELECT value FROM json_each(${param}))`)})`;

/** One instance: a lease ends when it runs out. */
export const NEXT_DUE = nextDueStatements('leased_until', OTHER_ACCOUNTS_SQLITE);

/** When the next lifetime of the accounts of `scope` ends, or null when none runs. */
export function nextExpiryAtSqlite(db: SqliteDb, scope: AccountScope): number | null {
  const rows = 'account' in scope ? db.all(NEXT_DUE.accountExpiry, [scope.account]) : db.all(NEXT_DUE.otherAccountsExpiry, [JSON.stringify(scope.accountsOtherThan)]);
  return optNum(rows[0]?.at, 'at') ?? null;
}

export function nextDueAtSqlite(db: SqliteDb, kind: WorkKind, scope?: AccountScope | string): number | null {
  let rows;
  if (kind === 'forwards') rows = typeof scope === 'string' ? db.all(NEXT_DUE.destinationForwards, [scope]) : db.all(NEXT_DUE.forwards);
  else if (scope === undefined) rows = db.all(NEXT_DUE.operations);
  // A name alone is one account's.
  else if (typeof scope === 'string' || 'account' in scope) rows = db.all(NEXT_DUE.accountOperations, [typeof scope === 'string' ? scope : scope.account]);
  else rows = db.all(NEXT_DUE.otherAccountsOperations, [JSON.stringify(scope.accountsOtherThan)]);
  return optNum(rows[0]?.at, 'at') ?? null;
}

export function listDeadLettersSqlite(db: SqliteDb, limit: number, after?: DeadLetterCursor): DeadLetter[] {
  return db.all(DEAD_LETTERS, deadLetterPageParams(limit, after)).map(toDeadLetter);
}

/** Returns how many rows of each kind were queued again. */
export function retryDeadLettersSqlite(db: SqliteDb, which: 'all' | string[], now: number): Record<WorkKind, number> {
  const ids = which === 'all' ? undefined : parseDeadLetterIds(which);
  return db.tx(() => {
    let operations = 0;
    // One row per forward queued again, with its key.
    let forwards: Row[];
    if (!ids) {
      operations = db.run(REQUEUE_ALL_DEAD_OPERATIONS, [now]);
      forwards = db.all(REQUEUE_ALL_DEAD_FORWARDS, [now]);
    } else {
      for (const id of ids.operations) operations += db.run(REQUEUE_DEAD_OPERATION, [now, id]);
      forwards = ids.forwards.flatMap((id) => db.all(REQUEUE_DEAD_FORWARD, [now, id]));
    }
    if (forwards.length > 0) markRequeuedHeadsSqlite(db, forwards);
    return { operations, forwards: forwards.length };
  });
}

/**
 * One transaction: the dead letters removed, and the bodies of the forwards among them that no
 * forward holds any more. No lock on the bodies, as PostgreSQL needs: the transaction holds the
 * write lock from its start (BEGIN IMMEDIATE), so no completion commits between its statements,
 * in this process or another (the command line's).
 */
export function discardDeadLettersSqlite(db: SqliteDb, which: 'all' | string[]): number {
  const ids = which === 'all' ? undefined : parseDeadLetterIds(which);
  return db.tx(() => {
    const bodies = new Set<number>();
    let n = 0;
    const forwards = (rows: Row[]) => {
      for (const r of rows) bodies.add(Number(r.body_id));
      n += rows.length;
    };
    if (!ids) {
      n += db.run(DISCARD_ALL_DEAD_OPERATIONS);
      forwards(db.all(DISCARD_ALL_DEAD_FORWARDS));
    } else {
      for (const id of new Set(ids.operations)) n += db.run(DISCARD_DEAD_OPERATION, [id]);
      for (const id of new Set(ids.forwards)) forwards(db.all(DISCARD_DEAD_FORWARD, [id]));
    }
    for (const body of bodies) db.run(DELETE_BODY_IF_UNUSED, [body]);
    return n;
  });
}

export function deadOperationAccountsSqlite(db: SqliteDb, ids: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const id of ids) {
    const [n] = parseDeadLetterIds([id]).operations;
    const row = n === undefined ? undefined : db.all(DEAD_OPERATION_ACCOUNT, [n])[0];
    if (row) out.set(id, String(row.account));
  }
  return out;
}

export function deadForwardDestinationsSqlite(db: SqliteDb, ids: readonly string[] | 'all'): Map<string, number> {
  const out = new Map<string, number>();
  if (ids === 'all') {
    for (const row of db.all(DEAD_FORWARD_DESTINATIONS)) out.set(String(row.destination), Number(row.n));
    return out;
  }
  for (const n of new Set(parseDeadLetterIds([...ids]).forwards)) {
    const row = db.all(DEAD_FORWARD_DESTINATION, [n])[0];
    if (row) out.set(String(row.destination), (out.get(String(row.destination)) ?? 0) + 1);
  }
  return out;
}

export function requeueDeadOperationsSqlite(db: SqliteDb, account: string, code: DeadLetterCode, now: number): number {
  return db.run(REQUEUE_DEAD_OPERATIONS_BY_CODE, [now, account, code]);
}

export function accountlessOperationsSqlite(db: SqliteDb): { provider: Provider; channel: string }[] {
  return db.all(ACCOUNTLESS_OPERATIONS).map((r) => ({ provider: String(r.provider) as Provider, channel: String(r.channel) }));
}

export function assignAccountSqlite(db: SqliteDb, o: { provider: Provider; channel: string; account: string }, now: number): number {
  return db.run(ASSIGN_ACCOUNT, [now, o.provider, o.channel, o.account]);
}

/** One transaction: the rows that would share an identity go first, then the rest move. */
export function rescopePersonsSqlite(db: SqliteDb, o: PersonScopeRequest): RescopeResult {
  const params = [o.account, o.provider, o.platform, o.person ?? null];
  return db.tx(() => {
    if (db.all(RESCOPE_NEEDED, params).length === 0) return { rekeyed: 0, merged: 0 };
    const merged = db.run(RESCOPE_MERGE, params);
    return { rekeyed: db.run(RESCOPE_PERSONS, params), merged };
  });
}

export function releaseLeasesSqlite(db: SqliteDb, owner: string | undefined): number {
  return db.tx(() =>
    owner === undefined
      ? db.run(RELEASE_ALL_OPERATION_LEASES) + db.run(RELEASE_ALL_FORWARD_LEASES)
      : db.run(RELEASE_OPERATION_LEASES_OF, [owner]) + db.run(RELEASE_FORWARD_LEASES_OF, [owner]),
  );
}
