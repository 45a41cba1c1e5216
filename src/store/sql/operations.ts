/**
 * Statements on desired-state rows that both engines run as written. Placeholders
 * are PostgreSQL's `$n` (the SQLite runner turns each into `?` and binds by position); parameters whose
 * type PostgreSQL cannot infer from a column carry a CAST, which SQLite accepts too.
 */

/** The columns an accepted request inserts, in the order of the accept statements' values. */
export const OPERATION_INSERT_COLUMNS = `account, provider, kind, tag_id, platform, person_scope, user_id, recipient, channel, action, version, state,
  due_at, attempts, not_found_count, requested_at, updated_at, event_at, expires_at, expiry_rule, accept_effect`;

/** The request asks for another action than the row holds, or the row is a dead letter: a new version to apply. */
const QUEUES = `(operations.action <> excluded.action OR operations.state = 'dead')`;
/** The request moves (or sets, or clears) the end of the tag's lifetime. */
const RETIMES = `(operations.expires_at IS DISTINCT FROM excluded.expires_at)`;
const ifQueues = (then: string, otherwise: string) => `CASE WHEN ${QUEUES} THEN ${then} ELSE ${otherwise} END`;

/**
 * The event time the row stands for: that of the event that set it, also once its
 * lifetime has ended. The removal at the end of a lifetime happens "unless a later event
 * (later by event time) for the same key changed the state first" (CONTRACT.md,
 * "Lifetimes"): an event later than the one that set the lifetime but earlier than its
 * end still decides, whenever it arrives — a late redelivery keeps the tag for good
 * (add without for:), or to its own end (add with for:), just as it would have had it
 * come in time. Comparing with the lifetime's end instead made the outcome depend on
 * when the event arrived, which **Order** rules out.
 */
const ROW_EVENT_AT = `operations.event_at`;

/**
 * The desired-state upsert's conflict clause (CONTRACT.md, "Order"). The key is the
 * person as the provider identifies them (`operationKey`): for MantaGo, events of one user
 * written to two recipients (two LINE channels, two pages) share a row, which keeps the
 * recipient and channel of the latest event. A request whose
 * event is older than the row's changes nothing: no row is returned, and the accept
 * records it as superseded. Otherwise the latest event decides:
 * - another action, or a dead letter: version+1, due now, attempts reset (`queued`). The
 *   lease is left alone: the worker holding it will see the version moved when it settles;
 * - the same action with another lifetime end: the new end, no new version (`retimed`) —
 *   the tag is already asked for, only its removal moves (or goes);
 * - the same action and lifetime: only the event time moves (`touched`), so that an event
 *   older than this one cannot undo it. Bursts still cost one call (coalescing).
 * Equal event times: the request applied last wins, i.e. the one received last.
 * RETURNING `accept_effect` says which of the three happened.
 */
export const UPSERT_OPERATION_ON_CONFLICT = `
  ON CONFLICT (account, provider, kind, tag_id, platform, person_scope, user_id) DO UPDATE SET
    action = excluded.action,
    recipient = excluded.recipient,
    channel = excluded.channel,
    version = ${ifQueues('operations.version + 1', 'operations.version')},
    state = ${ifQueues(`'pending'`, 'operations.state')},
    due_at = ${ifQueues('excluded.due_at', 'operations.due_at')},
    attempts = ${ifQueues('0', 'operations.attempts')},
    not_found_count = ${ifQueues('0', 'operations.not_found_count')},
    requested_at = ${ifQueues('excluded.requested_at', 'operations.requested_at')},
    last_status = ${ifQueues('NULL', 'operations.last_status')},
    last_error = ${ifQueues('NULL', 'operations.last_error')},
    last_body_excerpt = ${ifQueues('NULL', 'operations.last_body_excerpt')},
    dead_reason = ${ifQueues('NULL', 'operations.dead_reason')},
    dead_code = ${ifQueues('NULL', 'operations.dead_code')},
    dead_at = ${ifQueues('NULL', 'operations.dead_at')},
    updated_at = CASE WHEN ${QUEUES} OR ${RETIMES} THEN excluded.updated_at ELSE operations.updated_at END,
    event_at = excluded.event_at,
    expires_at = excluded.expires_at,
    expiry_rule = excluded.expiry_rule,
    accept_effect = CASE WHEN ${QUEUES} THEN 'queued' WHEN ${RETIMES} THEN 'retimed' ELSE 'touched' END
  WHERE excluded.event_at >= ${ROW_EVENT_AT}`;

/** What the upsert did to a row it returned (see UPSERT_OPERATION_ON_CONFLICT). */
export type AcceptEffect = 'queued' | 'retimed' | 'touched';

/** A change the worker has to see: something to call, or a removal that moved. */
export function wakesWorker(effect: AcceptEffect): boolean {
  return effect !== 'touched';
}

/**
 * A lifetime that ended, as a removal: asking for remove at `expires_at` — version+1,
 * due then, its give-up window from then (CONTRACT.md, "Lifetimes"). `event_at` stays that
 * of the event that set the lifetime (see ROW_EVENT_AT).
 * A lease is left alone: its holder sees the version moved when it settles. $1 now.
 */
export const EXPIRE_SET = `
    action = 'remove',
    version = version + 1,
    state = 'pending',
    due_at = expires_at,
    requested_at = expires_at,
    attempts = 0,
    not_found_count = 0,
    last_status = NULL,
    last_error = NULL,
    last_body_excerpt = NULL,
    dead_reason = NULL,
    dead_code = NULL,
    dead_at = NULL,
    expires_at = NULL,
    expiry_rule = NULL,
    accept_effect = 'queued',
    updated_at = CAST($1 AS BIGINT)`;

/** Rows whose lifetimes end soonest are turned first; a long-stopped service catches up over several claims. */
export const EXPIRE_BATCH = 500;

/** The removal as the history keeps operations (TagOperation's JSON), built from a row; `json` is the engine's json_object. */
export const removalJson = (json: 'json_object' | 'json_build_object') =>
  `CAST(${json}('action', 'remove', 'provider', provider, 'kind', kind, 'tagId', tag_id, 'platform', platform, 'recipient', recipient, 'userId', user_id, 'account', account, 'channel', channel) AS TEXT)`;

/** $1 at, $2 user, $3 operation JSON, $4 version, $5 outcome, $6 cause, $7 rule. */
export const INSERT_HISTORY_DECISION = `
  INSERT INTO history_calls (at, user_id, operation, version, outcome, cause, rule)
  VALUES ($1, $2, $3, $4, $5, $6, $7)`;

/**
 * Settling a claimed row only touches it while `owner` still holds the lease; each
 * returns the row's current version so the caller can tell whether it moved.
 * $1 id, $2 owner, $3 claimed version, $4 now, then the attempt outcome.
 */

/**
 * What settling a successful call sets: done while the row is still at the claimed version;
 * once it moved, pending and due now (the newer action is to be applied). Each value is an
 * SQL expression: parameters here, a row of the completions in PostgreSQL's bulk statement.
 * `version` and `due_at` are the row's own columns.
 */
export const completeSet = (v: { claimed: string; now: string; status: string; error: string; excerpt: string }) => `
    state = CASE WHEN version = ${v.claimed} THEN 'done' ELSE 'pending' END,
    due_at = CASE WHEN version = ${v.claimed} THEN due_at ELSE ${v.now} END,
    lease_owner = NULL,
    leased_until = NULL,
    last_status = ${v.status},
    last_error = ${v.error},
    last_body_excerpt = ${v.excerpt},
    updated_at = ${v.now}`;

/** $5 status, $6 error, $7 body excerpt. */
export const COMPLETE_OPERATION = `
  UPDATE operations SET ${completeSet({ claimed: '$3', now: 'CAST($4 AS BIGINT)', status: '$5', error: '$6', excerpt: '$7' })}
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
