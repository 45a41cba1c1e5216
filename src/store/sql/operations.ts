/**
 * Statements on desired-state rows that both engines run as written. Placeholders
 * are PostgreSQL's `$n` (the SQLite runner turns them into `?n`); parameters whose
 * type PostgreSQL cannot infer from a column carry a CAST, which SQLite accepts too.
 */

/**
 * The desired-state upsert's conflict clause. A row already asking for this action
 * (done, pending or leased) stays as it is — coalescing, and not counted as queued;
 * anything else (another action, or a dead letter) takes the new request: version+1,
 * due now, attempts reset. The lease is left alone: the worker holding it will see
 * the version moved when it completes. The row's channel becomes that of the newest request.
 */
export const UPSERT_OPERATION_ON_CONFLICT = `
  ON CONFLICT (account, provider, kind, tag_id, platform, recipient, user_id) DO UPDATE SET
    action = excluded.action,
    channel = excluded.channel,
    version = operations.version + 1,
    state = 'pending',
    due_at = excluded.due_at,
    attempts = 0,
    not_found_count = 0,
    requested_at = excluded.requested_at,
    last_status = NULL,
    last_error = NULL,
    last_body_excerpt = NULL,
    dead_reason = NULL,
    dead_code = NULL,
    dead_at = NULL,
    updated_at = excluded.updated_at
  WHERE NOT (operations.action = excluded.action AND operations.state <> 'dead')`;

/**
 * Settling a claimed row only touches it while `owner` still holds the lease; each
 * returns the row's current version so the caller can tell whether it moved.
 * $1 id, $2 owner, $3 claimed version, $4 now, then the attempt outcome.
 */

/** $5 status, $6 error, $7 body excerpt. Version moved: pending and due now. */
export const COMPLETE_OPERATION = `
  UPDATE operations SET
    state = CASE WHEN version = $3 THEN 'done' ELSE 'pending' END,
    due_at = CASE WHEN version = $3 THEN due_at ELSE CAST($4 AS BIGINT) END,
    lease_owner = NULL,
    leased_until = NULL,
    last_status = $5,
    last_error = $6,
    last_body_excerpt = $7,
    updated_at = CAST($4 AS BIGINT)
  WHERE id = $1 AND lease_owner = $2 AND state = 'pending'
  RETURNING version`;

/** $5 due at, $6 1 when the attempt was a 404, $7 status, $8 error, $9 body excerpt. */
export const RETRY_OPERATION = `
  UPDATE operations SET
    attempts = CASE WHEN version = $3 THEN attempts + 1 ELSE attempts END,
    not_found_count = CASE WHEN version = $3 AND $6 = 1 THEN not_found_count + 1 ELSE not_found_count END,
    due_at = CASE WHEN version = $3 THEN CAST($5 AS BIGINT) ELSE CAST($4 AS BIGINT) END,
    lease_owner = NULL,
    leased_until = NULL,
    last_status = $7,
    last_error = $8,
    last_body_excerpt = $9,
    updated_at = CAST($4 AS BIGINT)
  WHERE id = $1 AND lease_owner = $2 AND state = 'pending'
  RETURNING version`;

/** $5 reason, $6 attempts to add (1 when a call was made), $7 status, $8 error, $9 body excerpt, $10 code. */
export const DEAD_LETTER_OPERATION = `
  UPDATE operations SET
    state = CASE WHEN version = $3 THEN 'dead' ELSE 'pending' END,
    due_at = CASE WHEN version = $3 THEN due_at ELSE CAST($4 AS BIGINT) END,
    dead_reason = CASE WHEN version = $3 THEN CAST($5 AS TEXT) ELSE NULL END,
    dead_code = CASE WHEN version = $3 THEN CAST($10 AS TEXT) ELSE NULL END,
    dead_at = CASE WHEN version = $3 THEN CAST($4 AS BIGINT) ELSE NULL END,
    attempts = CASE WHEN version = $3 THEN attempts + $6 ELSE attempts END,
    lease_owner = NULL,
    leased_until = NULL,
    last_status = $7,
    last_error = $8,
    last_body_excerpt = $9,
    updated_at = CAST($4 AS BIGINT)
  WHERE id = $1 AND lease_owner = $2 AND state = 'pending'
  RETURNING version`;

/** $1 id, $2 owner, $3 new lease end. */
export const RENEW_OPERATION_LEASE = `
  UPDATE operations SET leased_until = $3
  WHERE id = $1 AND lease_owner = $2 AND state = 'pending'`;

/** $1 at, $2 user, $3 operation JSON, $4 version, $5 outcome, $6 status, $7 error. */
export const INSERT_HISTORY_CALL = `
  INSERT INTO history_calls (at, user_id, operation, version, outcome, status, error)
  VALUES ($1, $2, $3, $4, $5, $6, $7)`;
