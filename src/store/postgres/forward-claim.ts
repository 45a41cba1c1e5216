import type { ClaimOptions, ClaimedForward } from '../store';
import { num, toClaimedForward } from '../shared/rows';
import { isForwardHead, noForwardOfKeyInFlight } from '../sql/forwards';
import { advisoryLockKey } from './advisory-lock';
import type { Query } from './db';
import { LEASE_END } from './liveness';

/**
 * A forward claim on PostgreSQL: two statements in one transaction, holding a lock per ordering
 * key in between.
 *
 * A claim decides from its statement's snapshot that a head leads its key and that nothing of
 * its key is in flight. Row locks (FOR UPDATE SKIP LOCKED) keep two claims off one row, not off
 * two rows of one key, and a snapshot can be stale about another row of the key in two ways at
 * once: two instances queue forwards of one key together (each sees nothing of the key waiting,
 * so both are marked as its head) and the one with the lower id commits last. A claim that does
 * not see it yet leases the later one; a claim that starts after the earlier one commits, before
 * that lease commits, sees the earlier one lead its key with nothing in flight, and leased it too
 * (test/store/postgres-forward-key-races.test.ts). So a claim first picks its heads and takes a
 * transaction advisory lock on each one's key, passing over a key another claim holds; then
 * leases them in a second statement, whose snapshot is taken once the locks are held: a claim
 * of another row of the key has committed by then, and its lease is seen. Queueing a forward
 * takes no lock (the webhook's answer waits for nothing more); settles take none either: they
 * end leases, and what they end is seen by the next claim.
 */

/** Which destinations a claim is for: a condition on `destination` over the parameter it is given; absent, every destination. */
export interface ClaimScope {
  destinations?: (param: string) => string;
}

/**
 * Heads only (see isForwardHead), due, not leased, and with no forward of their key in flight
 * (noForwardOfKeyInFlight), SKIP LOCKED as for operations: of every destination, or of those
 * `destinations` names. Read through forwards_due_heads: the marked heads that are due, earliest
 * first, each checked to lead its key and to be free — not the destination's whole backlog, nor
 * another destination's (CONTRACT.md: "one destination's failures never delay another
 * destination"). The key's lock is tried last, on the rows the claim would take only, locked
 * and checked again by PostgreSQL (on a row updated since the snapshot), up to the limit:
 * outside the subquery, which OFFSET 0 keeps PostgreSQL from pushing the condition into (where it
 * was planned first of all, before the row lock).
 * $1 now, $2 limit, $3 destinations, $4 the lock keys' prefix.
 */
const pickForwards = (o: ClaimScope) => `
  SELECT picked.id FROM (
    SELECT c.id, c.destination, c.ordering_key FROM forwards c
    WHERE c.state = 'pending' AND c.head = 1 AND ${o.destinations ? `c.${o.destinations('$3')}` : '$3::text[] IS NULL'}
      AND c.due_at <= $1 AND (c.leased_until IS NULL OR ${LEASE_END} <= $1)
      AND ${isForwardHead('c')}
      AND ${noForwardOfKeyInFlight('c', { destinations: o.destinations?.('$3'), now: '$1', leaseEnd: LEASE_END })}
    ORDER BY c.due_at, c.id
    OFFSET 0
    FOR UPDATE SKIP LOCKED
  ) picked
  WHERE pg_try_advisory_xact_lock(hashtextextended($4 || picked.destination || E'\\n' || picked.ordering_key, 0))
  LIMIT $2`;

/**
 * The picked forwards leased, each checked again by this statement's snapshot (see above);
 * found by id (`(f.state …) IS TRUE` keeps the partial indexes out of the plan, as the settles
 * do). $1 owner, $2 leased until, $3 now, $4 ids, $5 destinations, $6 and $7 the holder and call
 * deadline, as for operations.
 */
const leaseForwards = (o: ClaimScope) => `
  UPDATE forwards f SET lease_owner = $1, leased_until = $2, lease_holder = $6, call_deadline = $7
  FROM forward_bodies b
  WHERE f.id = ANY($4::bigint[]) AND b.id = f.body_id
    AND (f.state = 'pending' AND f.head = 1 AND f.due_at <= $3) IS TRUE${o.destinations ? '' : ' AND $5::text[] IS NULL'}
    AND (f.leased_until IS NULL OR ${LEASE_END} <= $3)
    AND ${isForwardHead('f')}
    AND ${noForwardOfKeyInFlight('f', { destinations: o.destinations?.('$5'), now: '$3', leaseEnd: LEASE_END })}
  RETURNING f.*, b.body, b.headers`;

export interface ClaimStatements {
  pick: string;
  lease: string;
}
const statements = (o: ClaimScope): ClaimStatements => ({ pick: pickForwards(o), lease: leaseForwards(o) });

const CLAIM_FORWARDS = statements({});
/** For one destination: its due heads in index order, no sort (what a destination's loop asks). */
export const CLAIM_FORWARDS_TO = statements({ destinations: (p) => `destination = ${p}::text` });
const CLAIM_FORWARDS_TO_ANY = statements({ destinations: (p) => `destination = ANY(${p}::text[])` });

/** The prefix of a schema's key locks: apart from other schemas' stores and from other locks. */
export const forwardKeyLockPrefix = (schema: string | undefined) => advisoryLockKey(schema, 'forward-key:');

/**
 * Call inside a transaction (see above). `lockPrefix` (forwardKeyLockPrefix) names the keys' locks; `sql` is for tests that pause a claim.
 */
export async function claimForwardsPostgres(
  q: Query,
  o: ClaimOptions & { destinations?: string[] },
  holder: string | undefined,
  lockPrefix: string,
  sql?: ClaimStatements,
): Promise<ClaimedForward[]> {
  const one = o.destinations?.length === 1 ? o.destinations[0] : undefined;
  const chosen = sql ?? (one !== undefined ? CLAIM_FORWARDS_TO : o.destinations ? CLAIM_FORWARDS_TO_ANY : CLAIM_FORWARDS);
  const destinations = one ?? o.destinations ?? null;
  const picked = (await q(chosen.pick, [o.now, o.limit, destinations, lockPrefix])).rows.map((r) => num(r.id, 'id'));
  if (picked.length === 0) return [];
  const { rows } = await q(chosen.lease, [
    o.owner, o.now + o.leaseMs, o.now, picked, destinations, holder ?? null, o.callMs === undefined ? null : o.now + o.callMs,
  ]);
  return rows.sort((a, b) => num(a.id, 'id') - num(b.id, 'id')).map(toClaimedForward);
}
