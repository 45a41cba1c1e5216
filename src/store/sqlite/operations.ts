import type { ClaimedOperation } from '../store';
import type { Provider } from '../../tag-operation';
import { byDueThenId, toClaimedOperation } from '../shared/rows';
import { operationSettleStatement, settledOperation, type OperationSettlement, type SettledOperation } from '../shared/settle';
import { RENEW_OPERATION_LEASE } from '../sql/operations';
import type { SqliteDb } from './db';

/** One statement, so the rows picked are the rows leased (SQLite has one writer at a time). */
const CLAIM_OPERATIONS = `
  UPDATE operations SET lease_owner = $1, leased_until = $2
  WHERE id IN (
    SELECT id FROM operations
    WHERE state = 'pending' AND provider = $3 AND due_at <= $4
      AND (leased_until IS NULL OR leased_until <= $4)
    ORDER BY due_at, id
    LIMIT $5
  )
  RETURNING *`;

export function claimOperationsSqlite(
  db: SqliteDb,
  o: { provider: Provider; limit: number; owner: string; now: number; leaseMs: number },
): ClaimedOperation[] {
  const rows = db.all(CLAIM_OPERATIONS, [o.owner, o.now + o.leaseMs, o.provider, o.now, o.limit]);
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
