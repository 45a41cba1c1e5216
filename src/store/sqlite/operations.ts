import type { AccountScope, ClaimedOperation } from '../store';
import { byDueThenId, toClaimedOperation } from '../shared/rows';
import { operationSettleStatement, settledOperation, type OperationSettlement, type SettledOperation } from '../shared/settle';
import { RENEW_OPERATION_LEASE } from '../sql/operations';
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
const CLAIM_OTHER_ACCOUNTS = claimOperations(OTHER_ACCOUNTS_SQLITE('$3'));

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
