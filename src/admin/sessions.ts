import type { Logger } from '../log';
import type { Store } from '../store/store';
import { SESSION_MS, type AdminAuth } from './auth';

/**
 * /admin sessions kept in the store (CONTRACT.md: logging out ends that session on the
 * server), so a copied cookie stops working at logout, and every instance sharing a
 * PostgreSQL store knows the same sessions. A session lasts SESSION_MS.
 */
export interface AdminSessions {
  /** Opens a session and returns its cookie value. */
  open(): Promise<string>;
  /** Whether the session of this (well-signed) cookie is open now. */
  isOpen(idHash: string): Promise<boolean>;
  close(idHash: string): Promise<void>;
}

export function createAdminSessions(deps: { store: Store; auth: AdminAuth; now: () => number; log: Logger }): AdminSessions {
  const { store, auth, now, log } = deps;
  return {
    async open() {
      const at = now();
      // Sessions only come from logins, so pruning here keeps the table to the sessions of the
      // last SESSION_MS — and drops those of an earlier ADMIN_TOKEN for good.
      await store.pruneAdminSessions(at, auth.tokenCheck).catch((err: unknown) =>
        log.warn('could not prune old admin sessions', { error: err instanceof Error ? err.message : String(err) }),
      );
      const session = auth.newSession();
      await store.startAdminSession({ idHash: session.idHash, tokenCheck: auth.tokenCheck, createdAt: at, expiresAt: at + SESSION_MS });
      return session.cookie;
    },
    isOpen: (idHash) => store.adminSessionActive(idHash, auth.tokenCheck, now()),
    async close(idHash) {
      await store.endAdminSession(idHash);
    },
  };
}
