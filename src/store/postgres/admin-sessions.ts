import type { StoreEngine } from '../shared/store-engine';
import { ADMIN_SESSION_ACTIVE, END_ADMIN_SESSION, PRUNE_ADMIN_SESSIONS, START_ADMIN_SESSION } from '../sql/admin-sessions';
import type { Query } from './db';

type AdminSessionMethods = Pick<StoreEngine, 'startAdminSession' | 'adminSessionActive' | 'endAdminSession' | 'pruneAdminSessions'>;

/** The /admin sessions of the PostgreSQL store, shared by every instance (a logout anywhere ends the session everywhere). */
export function adminSessionsPostgres(q: Query): AdminSessionMethods {
  return {
    startAdminSession: async (s) => {
      await q(START_ADMIN_SESSION, [s.idHash, s.tokenCheck, s.createdAt, s.expiresAt]);
    },
    adminSessionActive: async (idHash, tokenCheck, now) => (await q(ADMIN_SESSION_ACTIVE, [idHash, tokenCheck, now])).rows.length > 0,
    endAdminSession: async (idHash) => (await q(END_ADMIN_SESSION, [idHash])).rowCount > 0,
    pruneAdminSessions: async (now, tokenCheck) => (await q(PRUNE_ADMIN_SESSIONS, [now, tokenCheck])).rowCount,
  };
}
