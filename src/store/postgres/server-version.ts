/** The oldest PostgreSQL release the store runs on (README, "Supported PostgreSQL versions"). */
export const OLDEST_POSTGRES = 12;

/**
 * Refuses a server older than PostgreSQL 12 (`server_version_num`, e.g. 110022 for 11.22), with
 * what was found: on one, the start went well and every caller-role statement failed later
 * (`WITH … AS MATERIALIZED`), each failure ending the session, every half second.
 */
export function checkServerVersion(versionNum: number, version: string, where: string): void {
  if (!Number.isFinite(versionNum) || versionNum >= OLDEST_POSTGRES * 10_000) return;
  throw new Error(
    `${where} is PostgreSQL ${version}; chat-autotag needs PostgreSQL ${OLDEST_POSTGRES} or later ` +
      `(README, "Supported PostgreSQL versions"): point DATABASE_URL at a newer server, or leave it unset for the embedded SQLite store`,
  );
}
