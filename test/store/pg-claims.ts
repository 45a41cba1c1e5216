import type pg from 'pg';
import type { Query } from '../../src/store/postgres/db';
import { CLAIM_FORWARDS_TO, claimForwardsPostgres, forwardKeyLockPrefix, type ClaimStatements } from '../../src/store/postgres/forward-claim';
import type { Row } from '../../src/store/shared/rows';

/** A connection of a test's own as the store's Query (for another instance's statements). */
export function queryOn(client: pg.Client): Query {
  return async (sql, params = []) => {
    const r = await client.query(sql, params as unknown[]);
    return { rows: r.rows as Row[], rowCount: r.rowCount ?? 0 };
  };
}

/**
 * Another instance's claim of `destination`'s forwards with the service's own statements, on
 * `client` (in the store's schema), in a transaction the caller has begun and ends: the bodies
 * it leased. `sql` for a claim the test pauses (pausedClaim).
 */
export async function claimOn(client: pg.Client, schema: string, o: { owner: string; now: number; destination: string }, sql?: ClaimStatements): Promise<string[]> {
  const claimed = await claimForwardsPostgres(
    queryOn(client),
    { owner: o.owner, now: o.now, limit: 10, leaseMs: 60_000, destinations: [o.destination] },
    undefined,
    forwardKeyLockPrefix(schema),
    sql,
  );
  return claimed.map((f) => f.body.toString());
}

/**
 * A destination's claim that waits, once its first statement has its snapshot and before it
 * looks at a row, for the session advisory lock on `gate` (the test holds it, then lets go).
 */
export function pausedClaim(gate: string): ClaimStatements {
  const pick = CLAIM_FORWARDS_TO.pick.replace(
    "WHERE c.state = 'pending'",
    `WHERE (SELECT 1 FROM pg_advisory_xact_lock(hashtextextended('${gate}', 0))) = 1 AND c.state = 'pending'`,
  );
  if (pick === CLAIM_FORWARDS_TO.pick) throw new Error('pausedClaim: the claim statement changed; put the gate elsewhere');
  return { ...CLAIM_FORWARDS_TO, pick };
}
