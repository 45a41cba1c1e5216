import type { ClaimedForward, DeadLetterRequest, RetryRequest } from '../store';
import { forwardKeysOf } from '../shared/forward-keys';
import { deadForwardParams, retryForwardParams } from '../shared/settle';
import { num, str, toClaimedForward, type Row } from '../shared/rows';
import {
  DEAD_LETTER_FORWARD,
  DEAD_LETTER_FORWARDS_TO,
  DELETE_BODY_IF_UNUSED,
  DELETE_LEASED_FORWARD,
  isForwardHead,
  MARK_NEXT_FORWARD_HEAD,
  noForwardOfKeyInFlight,
  PENDING_FORWARD_DESTINATIONS,
  RETRY_FORWARD,
} from '../sql/forwards';
import type { SqliteDb } from './db';

/**
 * Heads only (see isForwardHead), due, not leased, and with no forward of their key in flight
 * (noForwardOfKeyInFlight): of every destination, or of those `destinations` names (a
 * condition on `destination`). Read through forwards_due_heads: the marked heads that are
 * due, earliest first, each checked to lead its key and to be free — not the
 * destination's whole backlog, nor another destination's (CONTRACT.md: "one destination's
 * failures never delay another destination"; a failing destination's backlog of forwards
 * waiting for their next attempt is not read by its own claims either).
 */
const claimForwards = (destinations?: string) => `
  UPDATE forwards SET lease_owner = $1, leased_until = $2
  WHERE id IN (
    SELECT f.id FROM forwards f
    WHERE f.state = 'pending' AND f.head = 1${destinations ? ` AND f.${destinations}` : ''}
      AND f.due_at <= $3 AND (f.leased_until IS NULL OR f.leased_until <= $3)
      AND ${isForwardHead('f')}
      AND ${noForwardOfKeyInFlight('f', { destinations, now: '$3' })}
    ORDER BY f.due_at, f.id
    LIMIT $4
  )
  RETURNING id`;
const CLAIM_FORWARDS = claimForwards();
/** For destination $5: its due heads in index order, no sort (what a destination's loop asks). */
export const CLAIM_FORWARDS_TO = claimForwards('destination = $5');
/** For the destinations of the JSON list $5. */
const CLAIM_FORWARDS_TO_ANY = claimForwards('destination IN (SELECT value FROM json_each($5))');

/**
 * $1 the keys of dead letters queued again (a JSON list of [destination, ordering key]): the
 * forward that leads each marked as its head, found by a search of forwards_heads per key. Those
 * keys' forwards only: a look over every key cost what waited in the whole table (48–69 ms for
 * 100 letters beside 50,000 forwards of other keys; under 15 ms now). The forward that led a key
 * while its letter was dead keeps its mark, which a claim passes over (see isForwardHead);
 * PostgreSQL clears it to close a race between instances that one writer does not have.
 */
export const MARK_REQUEUED_HEADS = `
  UPDATE forwards SET head = 1
  WHERE id IN (
    SELECT (SELECT MIN(k.id) FROM forwards k WHERE k.state = 'pending' AND k.destination = json_extract(value, '$[0]') AND k.ordering_key = json_extract(value, '$[1]'))
    FROM json_each($1))
    AND head = 0`;

/** After dead letters were queued again (`requeued`: their rows, with their keys); see MARK_REQUEUED_HEADS. */
export function markRequeuedHeadsSqlite(db: SqliteDb, requeued: readonly Row[]): void {
  const { destinations, orderingKeys } = forwardKeysOf(requeued);
  db.run(MARK_REQUEUED_HEADS, [JSON.stringify(destinations.map((d, i) => [d, orderingKeys[i]]))]);
}

const CLAIMED_WITH_BODY = `
  SELECT f.*, b.body, b.headers FROM forwards f JOIN forward_bodies b ON b.id = f.body_id
  WHERE f.id IN (SELECT value FROM json_each($1))
  ORDER BY f.id`;

export function claimForwardsSqlite(
  db: SqliteDb,
  o: { destinations?: string[]; limit: number; owner: string; now: number; leaseMs: number },
): ClaimedForward[] {
  const lease = [o.owner, o.now + o.leaseMs, o.now, o.limit];
  const [one, ...more] = o.destinations ?? [];
  return db.tx(() => {
    const claimed =
      o.destinations === undefined ? db.all(CLAIM_FORWARDS, lease)
      : more.length === 0 && one !== undefined ? db.all(CLAIM_FORWARDS_TO, [...lease, one])
      : db.all(CLAIM_FORWARDS_TO_ANY, [...lease, JSON.stringify(o.destinations)]);
    const ids = claimed.map((r) => num(r.id, 'id'));
    if (ids.length === 0) return [];
    return db.all(CLAIMED_WITH_BODY, [JSON.stringify(ids)]).map(toClaimedForward);
  });
}

/** Marks the forward of the key that now leads it, if one waits; returns whether one does. */
function markNextHead(db: SqliteDb, row: Row): boolean {
  return db.all(MARK_NEXT_FORWARD_HEAD, [str(row.destination, 'destination'), str(row.ordering_key, 'ordering_key')]).length > 0;
}

/** Returns whether a later forward of the same key is now at the head (and may be due). */
export function completeForwardSqlite(db: SqliteDb, fwd: ClaimedForward, owner: string): { touched: boolean; next: boolean } {
  return db.tx(() => {
    const [row] = db.all(DELETE_LEASED_FORWARD, [fwd.id, owner]);
    if (!row) return { touched: false, next: false };
    db.run(DELETE_BODY_IF_UNUSED, [num(row.body_id, 'body_id')]);
    return { touched: true, next: markNextHead(db, row) };
  });
}

export function retryForwardSqlite(db: SqliteDb, fwd: ClaimedForward, owner: string, retry: RetryRequest): boolean {
  return db.run(RETRY_FORWARD, retryForwardParams(fwd.id, owner, retry)) > 0;
}

export function deadLetterForwardSqlite(
  db: SqliteDb,
  fwd: ClaimedForward,
  owner: string,
  now: number,
  dead: DeadLetterRequest,
): { touched: boolean; next: boolean } {
  return db.tx(() => {
    const [row] = db.all(DEAD_LETTER_FORWARD, deadForwardParams(fwd.id, owner, now, dead));
    if (!row) return { touched: false, next: false };
    return { touched: true, next: markNextHead(db, row) };
  });
}

/** One transaction: the pending forwards of every destination not in `destinations`, kept as dead letters. */
export function deadLetterForwardsNotToSqlite(db: SqliteDb, destinations: readonly string[], now: number, reasonOf: (destination: string) => string): Map<string, number> {
  return db.tx(() => {
    const counts = new Map<string, number>();
    for (const row of db.all(PENDING_FORWARD_DESTINATIONS)) {
      const destination = str(row.destination, 'destination');
      if (destinations.includes(destination)) continue;
      const n = db.run(DEAD_LETTER_FORWARDS_TO, [now, destination, reasonOf(destination)]);
      if (n > 0) counts.set(destination, n);
    }
    return counts;
  });
}
