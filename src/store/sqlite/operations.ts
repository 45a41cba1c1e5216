import type { AccountScope, ClaimedOperation } from '../store';
import { byDueThenId, toClaimedOperation } from '../shared/rows';
import { operationSettleStatement, settledOperation, type OperationSettlement, type SettledOperation } from '../shared/settle';
import { EXPIRE_BATCH, EXPIRE_SET, RENEW_OPERATION_LEASE, removalJson } from '../sql/operations';
import type { SqliteDb } from './db';
import { OTHER_ACCOUNTS_SQLITE } from './views';

/** One statement, so the rows picked are the rows leased (SQLite has one writer at a time). $3: the accounts. */
const claimOperations = (accounts: string) => `
  UPDATE operations SET lease_owner = $1, leased_until = $2
  WHERE id IN (
    SELECT id FROM operations
    WHERE state = 'pending' AND ${accounts} AND due_at <= $4
      AND (leased_until IS NULL OR leased_until <= $4)
    ORDER BY due_at, id
    LIMIT $5
  )
  RETURNING *`;
const CLAIM_ACCOUNT = claimOperations('account = $3');
export const CLAIM_OTHER_ACCOUNTS = claimOperations(OTHER_ACCOUNTS_SQLITE('$3'));

/** $1 now, $2 the accounts. One writer at a time, so both statements of a transaction see the same rows. */
function expiryStatements(accounts: string) {
  const due = `SELECT id FROM operations WHERE ${accounts} AND expires_at <= $1 ORDER BY expires_at, id LIMIT ${EXPIRE_BATCH}`;
  return {
    any: `SELECT 1 AS due FROM operations WHERE ${accounts} AND expires_at <= $1 LIMIT 1`,
    record: `
  INSERT INTO history_calls (at, user_id, operation, version, outcome, cause, rule)
  SELECT expires_at, user_id, ${removalJson('json_object')}, version + 1, 'expired', 'lifetime_ended', expiry_rule
  FROM operations WHERE id IN (${due})`,
    expire: `UPDATE operations SET ${EXPIRE_SET} WHERE id IN (${due})`,
  };
}
const EXPIRE_ACCOUNT = expiryStatements('account = $2');
const EXPIRE_OTHER_ACCOUNTS = expiryStatements(OTHER_ACCOUNTS_SQLITE('$2'));

/**
 * Turns the adds of the accounts of `scope` whose lifetime ended into removals, with a
 * history entry each. Looked for first without the write lock (it is usually nothing),
 * and written without an fsync: a conversion a power cut undoes is made again by the
 * next claim, from the same rows.
 */
export function expireOperationsSqlite(db: SqliteDb, scope: AccountScope, now: number): number {
  const [statements, params] =
    'account' in scope ? [EXPIRE_ACCOUNT, [now, scope.account]] : [EXPIRE_OTHER_ACCOUNTS, [now, JSON.stringify(scope.accountsOtherThan)]];
  if (db.all(statements.any, params).length === 0) return 0;
  return db.relaxed(() =>
    db.tx(() => {
      db.run(statements.record, params);
      return db.run(statements.expire, params);
    }),
  );
}

export function claimOperationsSqlite(
  db: SqliteDb,
  o: { scope: AccountScope; limit: number; owner: string; now: number; leaseMs: number },
): ClaimedOperation[] {
  const rows =
    'account' in o.scope
      ? db.all(CLAIM_ACCOUNT, [o.owner, o.now + o.leaseMs, o.scope.account, o.now, o.limit])
      : db.all(CLAIM_OTHER_ACCOUNTS, [o.owner, o.now + o.leaseMs, JSON.stringify(o.scope.accountsOtherThan), o.now, o.limit]);
  return rows.sort(byDueThenId).map(toClaimedOperation);
}

export function settleOperationSqlite(
  db: SqliteDb,
  s: OperationSettlement,
  op: ClaimedOperation,
  owner: string,
  now: number,
): SettledOperation {
  const stmt = operationSettleStatement(s, op, owner, now);
  return db.tx(() => {
    const settled = settledOperation(s, op, now, db.all(stmt.sql, stmt.params));
    if (settled.history) db.run(settled.history.sql, settled.history.params);
    return settled;
  });
}

export function renewOperationLeasesSqlite(db: SqliteDb, ids: number[], owner: string, until: number): void {
  db.tx(() => {
    for (const id of ids) db.run(RENEW_OPERATION_LEASE, [id, owner, until]);
  });
}
