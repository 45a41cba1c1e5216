import type { AccountScope, ClaimOptions, ClaimedOperation } from '../store';
import type { AttemptOutcome } from '../store';
import { outcomeColumns } from '../shared/accept-rows';
import { byDueThenId, num, toClaimedOperation } from '../shared/rows';
import { historyOperation, operationSettleStatement, settledOperation, type OperationSettlement, type SettledOperation } from '../shared/settle';
import { EXPIRE_BATCH, EXPIRE_SET, RENEW_OPERATION_LEASE, completeSet, removalJson } from '../sql/operations';
import type { Notify, PreparedQuery, Query } from './db';
import { LEASE_END } from './liveness';
import { OTHER_ACCOUNTS_POSTGRES } from './views';

/**
 * SKIP LOCKED: rows another instance is claiming right now are passed over instead
 * of waited for, so instances never take the same row and never queue behind each
 * other. The lock re-checks the WHERE clause on the newest row version, so a row
 * leased by a claim that committed meanwhile is not taken again. A lease ends as
 * LEASE_END says (early when its holder is gone). $6 the holder (this instance's
 * id, or NULL without a session), $7 the call deadline (or NULL).
 */
const claimOperations = (accounts: string) => `
  UPDATE operations o SET lease_owner = $1, leased_until = $2, lease_holder = $6, call_deadline = $7
  FROM (
    SELECT id FROM operations
    WHERE state = 'pending' AND ${accounts} AND due_at <= $4
      AND (leased_until IS NULL OR ${LEASE_END} <= $4)
    ORDER BY due_at, id
    LIMIT $5
    FOR UPDATE SKIP LOCKED
  ) picked
  WHERE o.id = picked.id
  RETURNING o.*`;
const CLAIM_ACCOUNT = claimOperations('account = $3');
export const CLAIM_OTHER_ACCOUNTS = claimOperations(OTHER_ACCOUNTS_POSTGRES('$3'));

/**
 * Adds whose lifetime ended become removals, with a history entry each, in one
 * statement. SKIP LOCKED: a row another instance is expiring (or accepting into) right
 * now is left to it, so each lifetime ends once and nobody waits. $1 now, $2 the accounts.
 */
const expireOperations = (accounts: string) => `
  WITH due AS (
    SELECT id, expiry_rule FROM operations
    WHERE ${accounts} AND expires_at <= $1
    ORDER BY expires_at, id
    LIMIT ${EXPIRE_BATCH}
    FOR UPDATE SKIP LOCKED
  ),
  expired AS (
    UPDATE operations o SET ${EXPIRE_SET}
    FROM due WHERE o.id = due.id
    RETURNING o.account, o.channel, o.provider, o.kind, o.tag_id, o.platform, o.recipient, o.user_id, o.version, o.requested_at, due.expiry_rule
  )
  INSERT INTO history_calls (at, user_id, operation, version, outcome, cause, rule)
  SELECT requested_at, user_id, ${removalJson('json_build_object')}, version, 'expired', 'lifetime_ended', expiry_rule FROM expired`;
const EXPIRE_ACCOUNT = expireOperations('account = $2');
const EXPIRE_OTHER_ACCOUNTS = expireOperations(OTHER_ACCOUNTS_POSTGRES('$2'));

export async function expireOperationsPostgres(q: PreparedQuery, scope: AccountScope, now: number): Promise<number> {
  const { rowCount } =
    'account' in scope
      ? await q('autotag_expire_account', EXPIRE_ACCOUNT, [now, scope.account])
      : await q('autotag_expire_other_accounts', EXPIRE_OTHER_ACCOUNTS, [now, [...scope.accountsOtherThan]]);
  return rowCount;
}

export async function claimOperationsPostgres(
  q: Query,
  o: ClaimOptions & { scope: AccountScope },
  holder: string | undefined,
): Promise<ClaimedOperation[]> {
  const deadline = o.callMs === undefined ? null : o.now + o.callMs;
  const { rows } =
    'account' in o.scope
      ? await q(CLAIM_ACCOUNT, [o.owner, o.now + o.leaseMs, o.scope.account, o.now, o.limit, holder ?? null, deadline])
      : await q(CLAIM_OTHER_ACCOUNTS, [o.owner, o.now + o.leaseMs, [...o.scope.accountsOtherThan], o.now, o.limit, holder ?? null, deadline]);
  return rows.sort(byDueThenId).map(toClaimedOperation);
}

/** `notify` wakes the other instances when the row is due again for a newer version. */
export async function settleOperationPostgres(
  q: Query,
  s: OperationSettlement,
  op: ClaimedOperation,
  owner: string,
  now: number,
  notify: Notify,
): Promise<SettledOperation> {
  const stmt = operationSettleStatement(s, op, owner, now);
  const settled = settledOperation(s, op, now, (await q(stmt.sql, stmt.params)).rows);
  if (settled.history) await q(settled.history.sql, settled.history.params);
  if (settled.touched && !settled.sameVersion) await notify(q, 'operations');
  return settled;
}

export async function renewOperationLeasesPostgres(q: Query, ids: number[], owner: string, until: number): Promise<void> {
  for (const id of ids) await q(RENEW_OPERATION_LEASE, [id, owner, until]);
}

/**
 * COMPLETE_OPERATION (the same SET, completeSet) and its history entry for many rows in ONE statement (its own
 * transaction, one round trip): the calls that end together are settled together, as
 * webhooks are accepted together. Each row is touched only while its owner still holds
 * the lease; RETURNING says which were, and their current versions. $1… one array per
 * column, in the order of the completions (WITH ORDINALITY keeps the history in it).
 *
 * The rows are found by primary key, whatever the planner believes about the table: on
 * statistics that have not caught up with a growing backlog (a young table, a burst after a
 * quiet spell, or autovacuum off) `state = 'pending'` looked selective, and the plan read every
 * pending row through the partial index operations_due and compared each with every
 * completion — about 10 ms of the database's CPU per settle with 10,000 operations waiting,
 * most of what the worker cost the database. `o.id = ANY($1)` offers the primary key;
 * `(o.state = 'pending') IS TRUE` (the same test) keeps the partial index out of the plan.
 */
export const COMPLETE_OPERATIONS = `
  WITH v AS (
    SELECT * FROM unnest(
      CAST($1 AS BIGINT[]), CAST($2 AS TEXT[]), CAST($3 AS INTEGER[]), CAST($4 AS BIGINT[]),
      CAST($5 AS INTEGER[]), CAST($6 AS TEXT[]), CAST($7 AS TEXT[]), CAST($8 AS TEXT[]), CAST($9 AS TEXT[])
    ) WITH ORDINALITY AS v (id, owner, claimed, now, status, error, excerpt, user_id, operation, ord)
  ),
  done AS (
    UPDATE operations o SET ${completeSet({ claimed: 'v.claimed', now: 'v.now', status: 'v.status', error: 'v.error', excerpt: 'v.excerpt' })}
    FROM v
    WHERE o.id = ANY(CAST($1 AS BIGINT[])) AND o.id = v.id AND o.lease_owner = v.owner AND (o.state = 'pending') IS TRUE
    RETURNING o.id, o.version, v.claimed, v.now, v.user_id, v.operation, v.status, v.error, v.ord
  ),
  recorded AS (
    INSERT INTO history_calls (at, user_id, operation, version, outcome, status, error)
    SELECT now, user_id, operation, claimed, 'applied', status, error FROM done ORDER BY ord
  )
  SELECT id, version FROM done`;

export interface Completion {
  op: ClaimedOperation;
  owner: string;
  now: number;
  outcome: AttemptOutcome;
}

/** Settles successful calls as one statement; one answer per completion, in order. `notify` runs when a version moved. */
export async function completeOperationsPostgres(
  q: PreparedQuery,
  items: readonly Completion[],
  notifyMoved: () => Promise<void>,
): Promise<SettledOperation[]> {
  const columns: (string | number | null)[][] = [[], [], [], [], [], [], [], [], []];
  for (const { op, owner, now, outcome } of items) {
    const o = outcomeColumns(outcome);
    const row = [op.id, owner, op.version, now, o.status, o.error, o.excerpt, op.userId, historyOperation(op)];
    row.forEach((value, i) => columns[i]?.push(value));
  }
  const { rows } = await q('autotag_complete_operations', COMPLETE_OPERATIONS, columns);
  const versions = new Map(rows.map((r) => [num(r.id, 'id'), num(r.version, 'version')]));
  const settled = items.map(({ op }): SettledOperation => {
    const version = versions.get(op.id);
    return version === undefined ? { touched: false, sameVersion: false } : { touched: true, sameVersion: version === op.version };
  });
  if (settled.some((s) => s.touched && !s.sameVersion)) await notifyMoved();
  return settled;
}
