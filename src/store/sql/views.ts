import { isForwardHead, noForwardOfKeyInFlight } from './forwards';

/** Operator views and bulk requeues that both engines run as written (see sql/operations.ts). */

/**
 * $1 now. Leases that ran out count as pending: they can be claimed again. For operations,
 * a done row whose lifetime has ended is a removal owed since `expires_at` (the worker turns
 * it into a pending row at its next claim; with the service stopped that may be much later):
 * it counts as pending and due, as of its end (CONTRACT.md, "Lifetimes").
 *
 * Done operations are the desired state of every person and tag ever tagged, and stay: they
 * are most of the table. So the rows counted are read as three parts, each through its partial
 * index — pending (operations_due), dead (operations_dead), and done with a lifetime that has
 * ended (operations_expiry) — never the done rows; a bare `state IN (…) OR …` read all of them
 * at every /metrics scrape (on SQLite on the event loop).
 */
const queueCounts = (table: 'operations' | 'forwards', since: 'requested_at' | 'received_at', groupBy?: string) => {
  const owedRemoval = table === 'operations' ? `(state = 'done' AND expires_at <= $1)` : 'FALSE';
  const columns = `state, leased_until, due_at, ${since}${table === 'operations' ? ', expires_at' : ''}${groupBy ? `, ${groupBy}` : ''}`;
  const counted =
    table === 'operations'
      ? `(SELECT ${columns} FROM operations WHERE state = 'pending'
          UNION ALL SELECT ${columns} FROM operations WHERE state = 'dead'
          UNION ALL SELECT ${columns} FROM operations WHERE expires_at IS NOT NULL AND expires_at <= $1 AND state = 'done') AS counted`
      : // Forwards are deleted once delivered: the table holds only pending and dead rows.
        `forwards WHERE state IN ('pending', 'dead')`;
  return `
  SELECT ${groupBy ? `${groupBy},` : ''}
    COALESCE(SUM(CASE WHEN (state = 'pending' AND (leased_until IS NULL OR leased_until <= $1)) OR ${owedRemoval} THEN 1 ELSE 0 END), 0) AS pending,
    COALESCE(SUM(CASE WHEN (state = 'pending' AND (leased_until IS NULL OR leased_until <= $1) AND due_at <= $1) OR ${owedRemoval} THEN 1 ELSE 0 END), 0) AS due,
    COALESCE(SUM(CASE WHEN state = 'pending' AND leased_until > $1 THEN 1 ELSE 0 END), 0) AS leased,
    COALESCE(SUM(CASE WHEN state = 'dead' THEN 1 ELSE 0 END), 0) AS dead,
    MIN(CASE WHEN state = 'pending' THEN ${since} ${table === 'operations' ? `WHEN ${owedRemoval} THEN expires_at ` : ''}END) AS oldest
  FROM ${counted}
  ${groupBy ? `GROUP BY ${groupBy}` : ''}`;
};

/**
 * One pass over the counted operations for the three views of them (the queue, each channel,
 * each account): rows by account, provider and channel, added up in code (shared/rows.ts,
 * toOperationCounts). Three statements, one per view, read the pending rows three times.
 */
export const OPERATION_COUNTS = queueCounts('operations', 'requested_at', 'account, provider, channel');
export const FORWARD_COUNTS = queueCounts('forwards', 'received_at');

/**
 * $1 now. Tags whose lifetime is still running (CONTRACT.md, "Lifetimes"): their removals,
 * not yet owed, and when the first of them is. Read through operations_expiry (partial).
 */
export const RUNNING_LIFETIMES = `SELECT COUNT(*) AS running, MIN(expires_at) AS next_end FROM operations WHERE expires_at > $1`;

/**
 * The accounts the operations table holds that `notIn` (an engine's test of "not in the list")
 * leaves, for the statements about operations no account takes. Found by a loose scan of the
 * identity index, which leads with the account: one index probe per account, two in the usual
 * case where every account is configured. A bare "not in the list" matches no index, and each
 * of those statements read every pending row — on SQLite on the event loop, 14–34 ms at 50,000
 * waiting, every second while webhooks arrived.
 */
export const unlistedAccounts = (notIn: string) => `
    WITH RECURSIVE known(account) AS (
      SELECT MIN(account) FROM operations
      UNION ALL
      SELECT (SELECT MIN(k.account) FROM operations k WHERE k.account > known.account) FROM known WHERE known.account IS NOT NULL
    )
    SELECT account FROM known WHERE account IS NOT NULL AND ${notIn}`;

/**
 * When the next claim can return something: a row is claimable at its due time, or
 * when its lease runs out, whichever is later; and a tag's lifetime ends at its
 * `expires_at` (the claim then turns it into a removal), so the worker is woken by that
 * time rather than polling. Forwards count only at the head of
 * their key (a forward held behind another is not claimable, and a worker woken for
 * it would spin). `leaseEnd`: when a lease runs out, as the engine's claims see it
 * (PostgreSQL: earlier when the holder is gone, see postgres/liveness.ts).
 */
export function nextDueStatements(leaseEnd: string, otherAccounts: (param: string) => string) {
  /**
   * The earliest of those times over pending rows, without reading every pending row:
   * unleased rows by `due_at` in index order (operations_due; the first one found is the
   * earliest), leased rows — a handful, the calls in flight — through their own partial index
   * (operations_leased). With a backlog of tens of thousands of rows the worker asks this after
   * every claim; a scan of the backlog each time cost more than the tag call itself.
   */
  const nextOperationDue = (scope: string) => `
    SELECT MIN(at) AS at FROM (
      SELECT at FROM (
        SELECT due_at AS at FROM operations WHERE state = 'pending' AND leased_until IS NULL${scope} ORDER BY due_at LIMIT 1
      ) unleased
      UNION ALL
      SELECT MIN(CASE WHEN ${leaseEnd} > due_at THEN ${leaseEnd} ELSE due_at END) AS at
      FROM operations WHERE state = 'pending' AND leased_until IS NOT NULL${scope}
      UNION ALL
      SELECT MIN(expires_at) AS at FROM operations WHERE expires_at IS NOT NULL${scope}
    ) next`;
  const nextExpiry = (scope: string) => `SELECT MIN(expires_at) AS at FROM operations WHERE expires_at IS NOT NULL AND ${scope}`;
  /**
   * The same for forwards, heads only: unleased ones through forwards_due_heads, earliest
   * first, the first that leads its key and that no lease on another forward of its key holds
   * (noForwardOfKeyInFlight); leased ones (the calls in flight) through forwards_leased, each at
   * its lease end or its due time, whichever is later — when the lease ends, it may go again.
   * Not the backlog of forwards waiting behind a head, nor of heads waiting for their next attempt.
   * A lease on a forward that does not lead its key (a dead letter queued again ahead of it; two
   * of one key leased at once, by a race or by an older release) holds the key's head, itself
   * leased or not: such a key is due when the last of its leases ends and its head is due,
   * whichever is later. Counted at one lease's end, a lease that ended unsettled would say "due"
   * while another lease of the key held it, or until its head's next attempt, and the loop would
   * ask again every few milliseconds. The keys holding such a lease are read once, through
   * forwards_leased (a probe of forwards_heads each); only their leases look up the key's other
   * leases (those of their destination) and its head.
   */
  const nextForwardDue = (destination?: string) => {
    const leased = (t: string) => `${t}.state = 'pending' AND ${t}.leased_until IS NOT NULL`;
    const keysLeasedBehind = `SELECT b.destination, b.ordering_key FROM forwards b
          WHERE ${leased('b')}${destination ? ` AND b.${destination}` : ''} AND NOT (${isForwardHead('b')})`;
    return `
    SELECT MIN(at) AS at FROM (
      SELECT at FROM (
        SELECT f.due_at AS at FROM forwards f
        WHERE f.state = 'pending' AND f.head = 1 AND f.leased_until IS NULL${destination ? ` AND f.${destination}` : ''} AND ${isForwardHead('f')}
          AND ${noForwardOfKeyInFlight('f', { destinations: destination })}
        ORDER BY f.due_at LIMIT 1
      ) unleased
      UNION ALL
      SELECT MIN(CASE
        WHEN (f.destination, f.ordering_key) NOT IN (${keysLeasedBehind})
        THEN CASE WHEN ${leaseEnd} > f.due_at THEN ${leaseEnd} ELSE f.due_at END
        ELSE (SELECT MAX(at) FROM (
          SELECT CASE WHEN l.ordering_key = f.ordering_key THEN ${leaseEnd} END AS at FROM forwards l WHERE ${leased('l')} AND l.destination = f.destination
          UNION ALL
          SELECT h.due_at FROM forwards h WHERE h.id = (
            SELECT MIN(k.id) FROM forwards k WHERE k.state = 'pending' AND k.destination = f.destination AND k.ordering_key = f.ordering_key)
        ) key_times) END) AS at
      FROM forwards f WHERE ${leased('f')}${destination ? ` AND f.${destination}` : ''}
    ) next`;
  };
  return {
    /** $1 account: when its next lifetime ends (operations_expiry). */
    accountExpiry: nextExpiry('account = $1'),
    otherAccountsExpiry: nextExpiry(otherAccounts('$1')),
    operations: nextOperationDue(''),
    /** $1 account. */
    accountOperations: nextOperationDue(' AND account = $1'),
    /** $1 the accounts not to look at (bound as the engine binds lists: `otherAccounts`). */
    otherAccountsOperations: nextOperationDue(` AND ${otherAccounts('$1')}`),
    forwards: nextForwardDue(),
    /** $1 destination. */
    destinationForwards: nextForwardDue('destination = $1'),
  };
}

/**
 * One page of dead letters, newest first: by `dead_at`, operations before forwards at the
 * same time, then by id (a total order, as ids repeat across the two tables). $1 limit;
 * $2, $3, $4 the page before's last letter (its dead_at, 'operation' or 'forward', its
 * number), all NULL for the first page: a keyset, so a long list is read page by page
 * without skipping or repeating a letter. Each table's own page comes through its dead_at
 * index (operations_dead, forwards_dead). Columns the other table lacks are NULL.
 */
export const DEAD_LETTERS = `
  SELECT * FROM (
    SELECT * FROM (
      SELECT 'operation' AS type, id, dead_reason, dead_code, last_status, last_body_excerpt, dead_at, attempts,
             action, provider, kind, tag_id, platform, recipient, user_id, account, channel,
             NULL AS destination, NULL AS ordering_key, CAST(NULL AS BIGINT) AS received_at
      FROM operations
      WHERE state = 'dead' AND (CAST($2 AS BIGINT) IS NULL OR dead_at < $2
        OR (dead_at = $2 AND CAST($3 AS TEXT) = 'operation' AND id < $4))
      ORDER BY dead_at DESC, id DESC LIMIT $1
    ) dead_operations
    UNION ALL
    SELECT * FROM (
      SELECT 'forward' AS type, id, dead_reason, NULL, last_status, last_body_excerpt, dead_at, attempts,
             NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
             destination, ordering_key, received_at
      FROM forwards
      WHERE state = 'dead' AND (CAST($2 AS BIGINT) IS NULL OR dead_at < $2
        OR (dead_at = $2 AND (CAST($3 AS TEXT) = 'operation' OR id < $4)))
      ORDER BY dead_at DESC, id DESC LIMIT $1
    ) dead_forwards
  ) dead
  ORDER BY dead_at DESC, type DESC, id DESC
  LIMIT $1`;

/**
 * Queued again means a fresh start: due now, attempts reset, and the give-up window
 * (requested_at, received_at) restarted — otherwise the worker would give up at once.
 * $1 now.
 */
const requeueOperations = `
  UPDATE operations SET
    state = 'pending', due_at = $1, requested_at = $1, attempts = 0, not_found_count = 0,
    dead_reason = NULL, dead_code = NULL, dead_at = NULL, lease_owner = NULL, leased_until = NULL, updated_at = $1
  WHERE state = 'dead'`;
/**
 * Queued again unmarked, each with its key: the heads of those keys are marked after, and only
 * theirs (postgres/forward-requeue.ts, sqlite/forwards.ts). `only` narrows the dead letters.
 */
const requeueForwards = (only = '') => `
  UPDATE forwards SET
    state = 'pending', due_at = $1, received_at = $1, attempts = 0, head = 0,
    dead_reason = NULL, dead_at = NULL, lease_owner = NULL, leased_until = NULL
  WHERE state = 'dead'${only}
  RETURNING destination, ordering_key`;

export const REQUEUE_ALL_DEAD_OPERATIONS = requeueOperations;
export const REQUEUE_ALL_DEAD_FORWARDS = requeueForwards();
/** $2 id. */
export const REQUEUE_DEAD_OPERATION = `${requeueOperations} AND id = $2`;
export const REQUEUE_DEAD_FORWARD = requeueForwards(' AND id = $2');
/** $1 id: a dead operation removed (an operator's discard). */
export const DISCARD_DEAD_OPERATION = `DELETE FROM operations WHERE state = 'dead' AND id = $1`;
export const DISCARD_ALL_DEAD_OPERATIONS = `DELETE FROM operations WHERE state = 'dead'`;
/** $1 id: a dead forward removed; its body goes after it when no other forward holds it (on SQLite DELETE_BODY_IF_UNUSED; on PostgreSQL under the body's lock, see discardDeadLettersPostgres). */
export const DISCARD_DEAD_FORWARD = `DELETE FROM forwards WHERE state = 'dead' AND id = $1 RETURNING body_id`;
export const DISCARD_ALL_DEAD_FORWARDS = `DELETE FROM forwards WHERE state = 'dead' RETURNING body_id`;
/** $1 id: the account of a dead operation (none when it is not one). */
export const DEAD_OPERATION_ACCOUNT = `SELECT account FROM operations WHERE state = 'dead' AND id = $1`;
/** The destination of dead forward $1 (no row: not a dead forward). */
export const DEAD_FORWARD_DESTINATION = `SELECT destination FROM forwards WHERE state = 'dead' AND id = $1`;
/** Every dead forward, counted by destination. */
export const DEAD_FORWARD_DESTINATIONS = `SELECT destination, COUNT(*) AS n FROM forwards WHERE state = 'dead' GROUP BY destination`;
/** $2 account, $3 dead-letter code. */
export const REQUEUE_DEAD_OPERATIONS_BY_CODE = `${requeueOperations} AND account = $2 AND dead_code = CAST($3 AS TEXT)`;

/** Dead operations no account could take: which providers and channels they are of. */
export const ACCOUNTLESS_OPERATIONS = `
  SELECT DISTINCT provider, channel FROM operations WHERE state = 'dead' AND account = '' ORDER BY provider, channel`;

/**
 * $1 now, $2 provider, $3 channel, $4 the account they go to now. Queued again as a
 * fresh start (as a retried dead letter), unless the account already holds a row for
 * the same tag and person (operationKey): that newer desired state wins, and the dead one stays.
 */
export const ASSIGN_ACCOUNT = `
  UPDATE operations SET
    account = CAST($4 AS TEXT),
    state = 'pending', due_at = $1, requested_at = $1, attempts = 0, not_found_count = 0,
    dead_reason = NULL, dead_code = NULL, dead_at = NULL, lease_owner = NULL, leased_until = NULL, updated_at = $1
  WHERE state = 'dead' AND account = '' AND provider = CAST($2 AS TEXT) AND channel = CAST($3 AS TEXT)
    AND NOT EXISTS (
      SELECT 1 FROM operations o
      WHERE o.account = CAST($4 AS TEXT) AND o.provider = operations.provider AND o.kind = operations.kind
        AND o.tag_id = operations.tag_id AND o.platform = operations.platform
        AND o.person_scope = operations.person_scope AND o.user_id = operations.user_id)`;

/*
 * Re-keying one account's rows of one provider and platform to the person scope of now
 * (Store.rescopePersons): $1 account, $2 provider, $3 platform, $4 the person, or NULL for
 * each row's recipient.
 */
const rescopeRows = `account = CAST($1 AS TEXT) AND provider = CAST($2 AS TEXT) AND platform = CAST($3 AS TEXT)`;
const scopeNow = `COALESCE(CAST($4 AS TEXT), recipient)`;

/** Whether any row is stored under another scope. */
export const RESCOPE_NEEDED = `SELECT 1 AS needed FROM operations WHERE ${rescopeRows} AND person_scope <> ${scopeNow} LIMIT 1`;

/**
 * The rows that would share an identity under the scope of now, all but the one set by the
 * latest event (then the last updated, then the newest row): store step 9's rule. Only rows
 * that move can share one: those already under it are one per identity.
 */
export const RESCOPE_MERGE = `
  DELETE FROM operations WHERE id IN (
    SELECT id FROM (
      SELECT id, ROW_NUMBER() OVER (
        PARTITION BY kind, tag_id, ${scopeNow}, user_id
        ORDER BY event_at DESC, updated_at DESC, id DESC) AS n
      FROM operations WHERE ${rescopeRows}) ranked
    WHERE n > 1)`;

export const RESCOPE_PERSONS = `UPDATE operations SET person_scope = ${scopeNow} WHERE ${rescopeRows} AND person_scope <> ${scopeNow}`;

/**
 * $1 owner. A worker's leases, given back when it stops. Only pending rows are leased, and a lease always
 * has its end (every settle clears both): `state = 'pending' AND leased_until IS NOT NULL` finds
 * them through operations_leased instead of reading every row — 90 ms at 500,000 done operations
 * on SQLite, at each shutdown. Forwards are deleted once delivered, so their table is the queue.
 */
export const RELEASE_OPERATION_LEASES_OF = `UPDATE operations SET lease_owner = NULL, leased_until = NULL WHERE state = 'pending' AND leased_until IS NOT NULL AND lease_owner = $1`;
export const RELEASE_FORWARD_LEASES_OF = `UPDATE forwards SET lease_owner = NULL, leased_until = NULL WHERE lease_owner = $1`;
export const RELEASE_ALL_OPERATION_LEASES = `UPDATE operations SET lease_owner = NULL, leased_until = NULL WHERE state = 'pending' AND leased_until IS NOT NULL AND lease_owner IS NOT NULL`;
export const RELEASE_ALL_FORWARD_LEASES = `UPDATE forwards SET lease_owner = NULL, leased_until = NULL WHERE lease_owner IS NOT NULL`;
