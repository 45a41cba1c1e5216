import type { AccountScope } from '../store';
import type { StoreEngine } from './store-engine';

/**
 * How long a scope's answer "no lifetime ends before T" is trusted at most (by the claim's
 * clock): another instance sharing the database may have accepted an earlier one since.
 * That instance's own worker ends it on time; this one looks again within this long.
 */
export const EXPIRY_RECHECK_MS = 1000;

/**
 * Turns ended lifetimes into removals before a claim (CONTRACT.md, "Lifetimes") without
 * asking the database before every claim. After a look it knows when the scope's next
 * lifetime ends and looks again only then, EXPIRY_RECHECK_MS later at most, or at once
 * after this process accepted an operation with a lifetime (`forget`). A store that
 * has no lifetimes at all so costs a claim one statement, not two (the expiry statement
 * before each claim was a quarter of the worker's statements on PostgreSQL).
 */
export function createExpiryWatch(engine: Pick<StoreEngine, 'expireOperations' | 'nextExpiryAt'>) {
  const known = new Map<string, { lookedAt: number; next: number | null }>();
  /** Moves at every `forget`: a look that an accept with a lifetime overtook is not kept. */
  let generation = 0;
  const keyOf = (scope: AccountScope) => ('account' in scope ? `account ${scope.account}` : `others ${[...scope.accountsOtherThan].sort().join('\n')}`);
  return {
    async expireDue(scope: AccountScope, now: number): Promise<void> {
      const key = keyOf(scope);
      const k = known.get(key);
      // A clock that went back (tests move theirs) makes what was known worthless.
      if (k && now >= k.lookedAt && now - k.lookedAt < EXPIRY_RECHECK_MS && (k.next === null || now < k.next)) return;
      known.delete(key);
      const started = generation;
      await engine.expireOperations(scope, now);
      const next = await engine.nextExpiryAt(scope);
      if (generation === started) known.set(key, { lookedAt: now, next });
    },
    /** An operation with a lifetime was accepted here: every scope looks again at its next claim. */
    forget(): void {
      generation++;
      known.clear();
    },
  };
}
