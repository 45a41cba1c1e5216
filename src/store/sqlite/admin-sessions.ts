import type { StoreEngine } from '../shared/store-engine';
import { ADMIN_SESSION_ACTIVE, END_ADMIN_SESSION, PRUNE_ADMIN_SESSIONS, START_ADMIN_SESSION } from '../sql/admin-sessions';
import type { SqliteDb } from './db';

type AdminSessionMethods = Pick<StoreEngine, 'startAdminSession' | 'adminSessionActive' | 'endAdminSession' | 'pruneAdminSessions'>;

/** The /admin sessions of the SQLite store: single statements, each its own durable commit. */
export function adminSessionsSqlite(db: SqliteDb): AdminSessionMethods {
  return {
    startAdminSession: async (s) => {
      db.run(START_ADMIN_SESSION, [s.idHash, s.tokenCheck, s.createdAt, s.expiresAt]);
    },
    adminSessionActive: async (idHash, tokenCheck, now) => db.all(ADMIN_SESSION_ACTIVE, [idHash, tokenCheck, now]).length > 0,
    endAdminSession: async (idHash) => db.run(END_ADMIN_SESSION, [idHash]) > 0,
    pruneAdminSessions: async (now, tokenCheck) => db.run(PRUNE_ADMIN_SESSIONS, [now, tokenCheck]),
  };
}
