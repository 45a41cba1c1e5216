/** /admin session statements that both engines run as written (see sql/operations.ts). */

/** $1 id hash, $2 token check, $3 created at, $4 expires at. */
export const START_ADMIN_SESSION = `
  INSERT INTO admin_sessions (id_hash, token_check, created_at, expires_at) VALUES ($1, $2, $3, $4)`;
/** $1 id hash, $2 token check, $3 now. */
export const ADMIN_SESSION_ACTIVE = `
  SELECT 1 AS active FROM admin_sessions WHERE id_hash = $1 AND token_check = $2 AND expires_at > $3`;
/** $1 id hash. */
export const END_ADMIN_SESSION = `DELETE FROM admin_sessions WHERE id_hash = $1`;
/** $1 now, $2 the current token check: expired sessions and those of an earlier ADMIN_TOKEN go. */
export const PRUNE_ADMIN_SESSIONS = `DELETE FROM admin_sessions WHERE expires_at <= $1 OR token_check <> $2`;
