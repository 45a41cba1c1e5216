/**
 * Which TLS a PostgreSQL connection uses, decided the way libpq decides it
 * (https://www.postgresql.org/docs/current/libpq-ssl.html#LIBPQ-SSL-PROTECTION):
 * an `sslmode` in the connection string wins, then `PGSSLMODE`, then our own
 * `DATABASE_SSL` (auto = prefer, verify = verify-full, off = disable).
 *
 * node-postgres reads `sslmode` differently: pg-connection-string 2.x takes
 * `prefer`, `require` and `verify-ca` as verify-full (so `?sslmode=require`
 * against Heroku's certificate fails) and never falls back to plain TCP. So the
 * TLS parameters are taken out of the URL here and pg is given an explicit `ssl`.
 */

export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

export const DATABASE_SSL_VALUES = ['auto', 'verify', 'off'] as const;
export type DatabaseSsl = (typeof DATABASE_SSL_VALUES)[number];

const FROM_DATABASE_SSL: Record<DatabaseSsl, SslMode> = { auto: 'prefer', verify: 'verify-full', off: 'disable' };

/** The environment's TLS settings, as read and checked by the configuration. */
export interface DatabaseTlsEnv {
  /** DATABASE_SSL */
  setting: DatabaseSsl;
  /** PGSSLMODE, PGSSLROOTCERT, PGSSLCERT, PGSSLKEY (libpq's variables) */
  pgSslMode?: SslMode | undefined;
  pgSslRootCert?: string | undefined;
  pgSslCert?: string | undefined;
  pgSslKey?: string | undefined;
  /** SSL_CERT_FILE: the system's CA bundle, where it is not in one of the usual places (OpenSSL's variable). */
  sslCertFile?: string | undefined;
}

/** A value and the setting that gave it, as a message names it ("DATABASE_SSL=verify", "sslmode=require in DATABASE_URL", "PGSSLROOTCERT"). */
export interface FromSetting<T> {
  value: T;
  from: string;
}

export interface TlsSettings {
  mode: FromSetting<SslMode>;
  /** `system`, or a CA file; absent: none given (verify modes then use the system's CA bundle). */
  rootCert?: FromSetting<string>;
  /** SSL_CERT_FILE, when set: the system's CA bundle. */
  systemCaFile?: FromSetting<string>;
  cert?: FromSetting<string>;
  key?: FromSetting<string>;
}

/** Query parameters node-postgres would read as TLS settings of its own. */
const TLS_PARAMS = ['sslmode', 'ssl', 'sslrootcert', 'sslcert', 'sslkey', 'uselibpqcompat'];

export function isSslMode(v: string): v is SslMode {
  return (SSL_MODES as readonly string[]).includes(v);
}

function params(url: string): URLSearchParams {
  try {
    return new URL(url).searchParams;
  } catch {
    return new URLSearchParams();
  }
}

/**
 * The mode a connection string asks for, if any. `ssl=` is node-postgres's own
 * parameter (libpq has none): `true`/`1` read as require, `false`/`0` as disable.
 * Returns a message naming the parameter for a value that is neither.
 */
export function sslModeOfUrl(url: string): { mode?: SslMode; from?: string; problem?: string } {
  const p = params(url);
  const sslmode = p.get('sslmode');
  if (sslmode !== null) {
    const from = `sslmode=${sslmode} in DATABASE_URL`;
    if (sslmode === 'no-verify') return { mode: 'require', from }; // node-postgres's spelling of require
    if (!isSslMode(sslmode)) return { problem: `sslmode=${sslmode} is not one of ${SSL_MODES.join(', ')}` };
    return { mode: sslmode, from };
  }
  const ssl = p.get('ssl');
  if (ssl === null) return {};
  const from = `ssl=${ssl} in DATABASE_URL`;
  if (['true', '1', 'no-verify'].includes(ssl)) return { mode: 'require', from };
  if (['false', '0'].includes(ssl)) return { mode: 'disable', from };
  return { problem: `ssl=${ssl} is not true or false (prefer sslmode=…)` };
}

/** The settings for `url`: its own parameters first, then libpq's variables, then DATABASE_SSL. */
export function tlsSettings(url: string, env: DatabaseTlsEnv): TlsSettings {
  const p = params(url);
  const fromUrl = sslModeOfUrl(url);
  const mode: FromSetting<SslMode> =
    fromUrl.mode && fromUrl.from
      ? { value: fromUrl.mode, from: fromUrl.from }
      : env.pgSslMode
        ? { value: env.pgSslMode, from: `PGSSLMODE=${env.pgSslMode}` }
        : { value: FROM_DATABASE_SSL[env.setting], from: `DATABASE_SSL=${env.setting}` };
  const file = (param: string, variable: string, envValue: string | undefined): FromSetting<string> | undefined => {
    const v = p.get(param);
    if (v) return { value: v, from: `${param} in DATABASE_URL` };
    return envValue ? { value: envValue, from: variable } : undefined;
  };
  const rootCert = file('sslrootcert', 'PGSSLROOTCERT', env.pgSslRootCert);
  const cert = file('sslcert', 'PGSSLCERT', env.pgSslCert);
  const key = file('sslkey', 'PGSSLKEY', env.pgSslKey);
  const systemCaFile = env.sslCertFile ? { value: env.sslCertFile, from: 'SSL_CERT_FILE' } : undefined;
  return { mode, ...(rootCert ? { rootCert } : {}), ...(systemCaFile ? { systemCaFile } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}

/** `url` without the parameters node-postgres would turn into TLS settings of its own (unchanged when it has none). */
export function withoutTlsParams(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url;
  }
  if (!TLS_PARAMS.some((k) => u.searchParams.has(k))) return url;
  for (const k of TLS_PARAMS) u.searchParams.delete(k);
  return u.toString();
}
