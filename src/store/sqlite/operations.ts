import type { ClaimedOperation } from '../store';
import type { Provider } from '../../tag-operation';
import { byDueThenId, toClaimedOperation } from '../shared/rows';
import { operationSettleStatement, settledOperation, type OperationSettlement, type SettledOperation } from '../shared/settle';
import { EXPIRE_BATCH, EXPIRE_SET, RENEW_OPERATION_LEASE, removalJson } from '../sql/operations';
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

/** $1 now, $2 provider. One writer at a time, so both statements of a transaction see the same rows. */
const DUE_EXPIRIES = `SELECT id FROM operations WHERE provider = $2 AND expires_at <= $1 ORDER BY expires_at, id LIMIT ${EXPIRE_BATCH}`;
const ANY_DUE_EXPIRY = `SELECT 1 AS due FROM operations WHERE provider = $2 AND expires_at <= $1 LIMIT 1`;
const RECORD_EXPIRIES = `
  INSERT INTO history_calls (at, user_id, operation, version, outcome, cause, rule)
  SELECT expires_at, user_id, ${removalJson('json_object')}, version + 1, 'expired', 'lifetime_ended', expiry_rule
  FROM operations WHERE id IN (${DUE_EXPIRIES})`;
const EXPIRE = `UPDATE operations SET ${EXPIRE_SET} WHERE id IN (${DUE_EXPIRIES})`;

/**
 * Turns adds whose lifetime ended into removals, with a history entry each. Looked for
 * first without the write lock (it is usually nothing), and written without an fsync: a
 * conversion a power cut undoes is made again by the next claim, from the same rows.
 */
export function expireOperationsSqlite(db: SqliteDb, provider: Provider, now: number): number {
  const params = [now, provider];
  if (db.all(ANY_DUE_EXPIRY, params).length === 0) return 0;
  return db.relaxed(() =>
    db.tx(() => {
      db.run(RECORD_EXPIRIES, params);
      return db.run(EXPIRE, params);
    }),
  );
}

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
