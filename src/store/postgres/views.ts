import type { Provider } from '../../tag-operation';
import type { AccountScope, DeadLetter, DeadLetterCode, DeadLetterCursor, PersonScopeRequest, RescopeResult, StoreStatus, WorkKind } from '../store';
import { deadLetterPageParams, parseDeadLetterIds } from '../shared/dead-letter-ids';
import { optNum, toDeadLetter, toOperationCounts, toQueueCounts, toRunningLifetimes, type Row } from '../shared/rows';
import {
  DEAD_LETTERS,
  DEAD_OPERATION_ACCOUNT,
  DISCARD_DEAD_OPERATION,
  DISCARD_ALL_DEAD_OPERATIONS,
  DISCARD_DEAD_FORWARD,
  DISCARD_ALL_DEAD_FORWARDS,
  DEAD_FORWARD_DESTINATION,
  DEAD_FORWARD_DESTINATIONS,
  FORWARD_COUNTS,
  nextDueStatements,
  OPERATION_COUNTS,
  RELEASE_ALL_FORWARD_LEASES,
  RELEASE_ALL_OPERATION_LEASES,
  RELEASE_FORWARD_LEASES_OF,
  RELEASE_OPERATION_LEASES_OF,
  REQUEUE_ALL_DEAD_OPERATIONS,
  REQUEUE_DEAD_OPERATION,
  REQUEUE_DEAD_OPERATIONS_BY_CODE,
  ACCOUNTLESS_OPERATIONS,
  ASSIGN_ACCOUNT,
  RESCOPE_MERGE,
  RESCOPE_NEEDED,
  RESCOPE_PERSONS,
  RUNNING_LIFETIMES,
  unlistedAccounts,
} from '../sql/views';
import { DELETE_BODIES_IF_UNUSED, LOCK_BODIES } from './forwards';
import { requeueDeadForwardsPostgres } from './forward-requeue';
import type { Notify, Query } from './db';
import { LEASE_END } from './liveness';

/** `account` is none of a list, bound as one text array (of the accounts the table holds: `unlistedAccounts`). */
export const OTHER_ACCOUNTS_POSTGRES = (param: string) => `account = ANY(ARRAY(${unlistedAccounts(`account <> ALL(${param}::text[])`)}))`;

/** Wakes a worker when a gone holder's lease comes back, not only when it runs out. */
export const NEXT_DUE = nextDueStatements(LEASE_END, OTHER_ACCOUNTS_POSTGRES);

export async function statusPostgres(q: Query, now: number): Promise<Omit<StoreStatus, 'pauses'>> {
  const [ops, fwd, lifetimes] = await Promise.all([q(OPERATION_COUNTS, [now]), q(FORWARD_COUNTS, [now]), q(RUNNING_LIFETIMES, [now])]);
  return {
    ...toOperationCounts(ops.rows, now),
    forwards: toQueueCounts(fwd.rows[0], now),
    lifetimes: toRunningLifetimes(lifetimes.rows[0]),
  };
}

/** When the next lifetime of the accounts of `scope` ends, or null when none runs. */
export async function nextExpiryAtPostgres(q: Query, scope: AccountScope): Promise<number | null> {
  const result = 'account' in scope ? await q(NEXT_DUE.accountExpiry, [scope.account]) : await q(NEXT_DUE.otherAccountsExpiry, [[...scope.accountsOtherThan]]);
  return optNum(result.rows[0]?.at, 'at') ?? null;
}

export async function nextDueAtPostgres(q: Query, kind: WorkKind, scope?: AccountScope | string): Promise<number | null> {
  let result;
  if (kind === 'forwards') result = await (typeof scope === 'string' ? q(NEXT_DUE.destinationForwards, [scope]) : q(NEXT_DUE.forwards));
  else if (scope === undefined) result = await q(NEXT_DUE.operations);
  // A name alone is one account's.
  else if (typeof scope === 'string' || 'account' in scope) result = await q(NEXT_DUE.accountOperations, [typeof scope === 'string' ? scope : scope.account]);
  else result = await q(NEXT_DUE.otherAccountsOperations, [[...scope.accountsOtherThan]]);
  return optNum(result.rows[0]?.at, 'at') ?? null;
}

export async function deadOperationAccountsPostgres(q: Query, ids: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const id of ids) {
    const [n] = parseDeadLetterIds([id]).operations;
    const row = n === undefined ? undefined : (await q(DEAD_OPERATION_ACCOUNT, [n])).rows[0];
    if (row) out.set(id, String(row.account));
  }
  return out;
}

/**
 * Call inside a transaction: the dead letters removed, and the bodies of the forwards among them
 * that no forward holds any more — locked first, in id order, as a completion locks them
 * (LOCK_BODIES): a forward of the same body completed at the same time on another connection
 * would otherwise see the dead one, and this the completed one, and both keep the body.
 */
export async function discardDeadLettersPostgres(q: Query, which: 'all' | string[]): Promise<number> {
  const ids = which === 'all' ? undefined : parseDeadLetterIds(which);
  const bodies = new Set<number>();
  let n = 0;
  const forwards = (rows: Row[]) => {
    for (const r of rows) bodies.add(Number(r.body_id));
    n += rows.length;
  };
  if (!ids) {
    n += (await q(DISCARD_ALL_DEAD_OPERATIONS)).rowCount;
    forwards((await q(DISCARD_ALL_DEAD_FORWARDS)).rows);
  } else {
    for (const id of new Set(ids.operations)) n += (await q(DISCARD_DEAD_OPERATION, [id])).rowCount;
    for (const id of new Set(ids.forwards)) forwards((await q(DISCARD_DEAD_FORWARD, [id])).rows);
  }
  if (bodies.size > 0) {
    await q(LOCK_BODIES, [[...bodies]]);
    await q(DELETE_BODIES_IF_UNUSED, [[...bodies]]);
  }
  return n;
}

export async function deadForwardDestinationsPostgres(q: Query, ids: readonly string[] | 'all'): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (ids === 'all') {
    for (const row of (await q(DEAD_FORWARD_DESTINATIONS)).rows) out.set(String(row.destination), Number(row.n));
    return out;
  }
  for (const n of new Set(parseDeadLetterIds([...ids]).forwards)) {
    const row = (await q(DEAD_FORWARD_DESTINATION, [n])).rows[0];
    if (row) out.set(String(row.destination), (out.get(String(row.destination)) ?? 0) + 1);
  }
  return out;
}

export async function listDeadLettersPostgres(q: Query, limit: number, after?: DeadLetterCursor): Promise<DeadLetter[]> {
  return (await q(DEAD_LETTERS, deadLetterPageParams(limit, after))).rows.map(toDeadLetter);
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
  let operations = 0;
  let forwards = 0;
  if (which === 'all') {
    operations = (await q(REQUEUE_ALL_DEAD_OPERATIONS, [now])).rowCount;
    forwards = await requeueDeadForwardsPostgres(q, 'all', now);
  } else {
    const ids = parseDeadLetterIds(which);
    for (const id of ids.operations) operations += (await q(REQUEUE_DEAD_OPERATION, [now, id])).rowCount;
    forwards = await requeueDeadForwardsPostgres(q, ids.forwards, now);
  }
  return wakeOthers(q, notify, { operations, forwards });
}

/** Call inside a transaction. */
export async function requeueDeadOperationsPostgres(
  q: Query,
  account: string,
  code: DeadLetterCode,
  now: number,
  notify: Notify,
): Promise<number> {
  const operations = (await q(REQUEUE_DEAD_OPERATIONS_BY_CODE, [now, account, code])).rowCount;
  return (await wakeOthers(q, notify, { operations, forwards: 0 })).operations;
}

export async function accountlessOperationsPostgres(q: Query): Promise<{ provider: Provider; channel: string }[]> {
  return (await q(ACCOUNTLESS_OPERATIONS)).rows.map((r) => ({ provider: String(r.provider) as Provider, channel: String(r.channel) }));
}

/** Call inside a transaction. */
export async function assignAccountPostgres(
  q: Query,
  o: { provider: Provider; channel: string; account: string },
  now: number,
  notify: Notify,
): Promise<number> {
  const operations = (await q(ASSIGN_ACCOUNT, [now, o.provider, o.channel, o.account])).rowCount;
  return (await wakeOthers(q, notify, { operations, forwards: 0 })).operations;
}

/**
 * Call inside a transaction; `lockKey` (advisoryLockKey) is held until it ends, so instances
 * starting together re-key one after the other (the second finds nothing left to do).
 */
export async function rescopePersonsPostgres(q: Query, o: PersonScopeRequest, lockKey: string): Promise<RescopeResult> {
  await q('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [lockKey]);
  const params = [o.account, o.provider, o.platform, o.person ?? null];
  if ((await q(RESCOPE_NEEDED, params)).rows.length === 0) return { rekeyed: 0, merged: 0 };
  const merged = (await q(RESCOPE_MERGE, params)).rowCount;
  return { rekeyed: (await q(RESCOPE_PERSONS, params)).rowCount, merged };
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
