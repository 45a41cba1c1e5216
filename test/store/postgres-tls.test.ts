import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { silentLogger } from '../../src/log';
import { createPostgresStore } from '../../src/store/postgres';
import { PgDb } from '../../src/store/postgres/db';
import { DatabaseTlsError } from '../../src/store/postgres/tls-negotiate';
import type { DatabaseTlsEnv } from '../../src/store/postgres/tls-settings';
import { postgresBinDir, startTlsCluster, tlsClusterUnavailable, type TlsCluster } from '../helpers/tls-cluster';
import { describePostgres } from '../helpers/pg-schema';
import { ROOT, runCli } from '../cli/cli-run';
import { freePort } from '../helpers/free-port';
import { listening } from './pg-waits';

/**
 * DATABASE_SSL against a real TLS-only server (a throwaway cluster made for this
 * run) and against the shared server, which has no TLS.
 */

function db(url: string, tls: DatabaseTlsEnv): PgDb {
  return new PgDb({ url, tls, log: silentLogger(), poolSize: 2, connectTimeoutMs: 5000, statementTimeoutMs: 10_000 });
}

/** Whether this very connection is encrypted, as the server sees it. */
async function usesTls(url: string, tls: DatabaseTlsEnv): Promise<boolean> {
  const d = db(url, tls);
  try {
    const { rows } = await d.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    return rows[0]?.ssl === true;
  } finally {
    await d.end();
  }
}

/** The error a connection attempt ends with (the test fails when it connects). */
async function refusal(url: string, tls: DatabaseTlsEnv): Promise<Error> {
  const d = db(url, tls);
  try {
    await d.query('SELECT 1');
  } catch (err) {
    return err as Error;
  } finally {
    await d.end();
  }
  throw new Error(`connected to ${url}, but a refusal was expected`);
}

const bin = postgresBinDir();
const unavailable = tlsClusterUnavailable(bin);
if (unavailable) console.warn(`PostgreSQL TLS tests skipped: ${unavailable}`);
const describeCluster = unavailable ? describe.skip : describe;

describeCluster(unavailable ? `DATABASE_SSL against a TLS-only server (skipped: ${unavailable})` : 'DATABASE_SSL against a TLS-only server', () => {
  let cluster: TlsCluster;
  beforeAll(async () => {
    cluster = await startTlsCluster(bin!);
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('auto connects with TLS without checking the certificate', async () => {
    expect(await usesTls(cluster.url(), { setting: 'auto' })).toBe(true);
  });

  it('verify connects with the CA that signed the certificate (PGSSLROOTCERT)', async () => {
    expect(await usesTls(cluster.url(), { setting: 'verify', pgSslRootCert: cluster.caFile })).toBe(true);
  });

  it('verify refuses a certificate another CA signed, naming the setting', async () => {
    const err = await refusal(cluster.url(), { setting: 'verify', pgSslRootCert: cluster.otherCaFile });
    expect(err).toBeInstanceOf(DatabaseTlsError);
    expect(err.message).toContain('DATABASE_SSL=verify');
    expect(err.message).toContain('certificate was not accepted');
  });

  it("verify refuses without a CA of its own (the system's CAs do not know the test CA)", async () => {
    const err = await refusal(cluster.url(), { setting: 'verify' });
    expect(err).toBeInstanceOf(DatabaseTlsError);
    expect(err.message).toMatch(/certificate was not accepted \(CA: (the system's|Node's trusted roots)/);
  });

  it("verify without PGSSLROOTCERT trusts the system's CA bundle, which SSL_CERT_FILE may name", async () => {
    expect(await usesTls(cluster.url(), { setting: 'verify', sslCertFile: cluster.caFile })).toBe(true);
    const err = await refusal(cluster.url(), { setting: 'verify', sslCertFile: cluster.otherCaFile });
    expect(err.message).toContain(`CA: the system's, ${cluster.otherCaFile} from SSL_CERT_FILE`);
  });

  it('verify checks the host name; verify-ca does not', async () => {
    // localhost reaches the same server, but the certificate names 127.0.0.1 only.
    const err = await refusal(cluster.url('localhost'), { setting: 'verify', pgSslRootCert: cluster.caFile });
    expect(err).toBeInstanceOf(DatabaseTlsError);
    expect(err.message).toMatch(/localhost/);
    expect(await usesTls(cluster.url('localhost', 'sslmode=verify-ca'), { setting: 'off', pgSslRootCert: cluster.caFile })).toBe(true);
  });

  it('off is refused by a server that accepts TLS only', async () => {
    const err = await refusal(cluster.url(), { setting: 'off' });
    expect(err).not.toBeInstanceOf(DatabaseTlsError);
    expect(err.message).toMatch(/no encryption|pg_hba/);
  });

  it("an sslmode in DATABASE_URL wins over DATABASE_SSL, with libpq's meaning", async () => {
    // node-postgres alone would check the certificate for prefer and require, and fail here.
    expect(await usesTls(cluster.url('127.0.0.1', 'sslmode=require'), { setting: 'off' })).toBe(true);
    expect(await usesTls(cluster.url('127.0.0.1', 'sslmode=prefer'), { setting: 'verify' })).toBe(true);
    // allow: plain first; this server refuses plain, so TLS.
    expect(await usesTls(cluster.url('127.0.0.1', 'sslmode=allow'), { setting: 'off' })).toBe(true);
    // require with a root certificate checks the chain (verify-ca), as libpq does.
    const err = await refusal(cluster.url('127.0.0.1', `sslmode=require&sslrootcert=${encodeURIComponent(cluster.otherCaFile)}`), { setting: 'auto' });
    expect(err.message).toContain('sslmode=require in DATABASE_URL');
    // verify-full with the right CA in the URL.
    expect(await usesTls(cluster.url('127.0.0.1', `sslmode=verify-full&sslrootcert=${encodeURIComponent(cluster.caFile)}`), { setting: 'off' })).toBe(true);
  });

  it('PGSSLMODE wins over DATABASE_SSL, and loses to the URL', async () => {
    expect((await refusal(cluster.url(), { setting: 'auto', pgSslMode: 'disable' })).message).toMatch(/no encryption|pg_hba/);
    expect(await usesTls(cluster.url('127.0.0.1', 'sslmode=require'), { setting: 'auto', pgSslMode: 'disable' })).toBe(true);
  });

  it('every connection of a store uses TLS: the pool, the advisory lock and the LISTEN connection', async () => {
    const url = cluster.url();
    const tls: DatabaseTlsEnv = { setting: 'verify', pgSslRootCert: cluster.caFile };
    const schema = 'tls_store';
    const store = createPostgresStore({ url, tls, schema, log: silentLogger(), poolSize: 2, connectTimeoutMs: 5000, statementTimeoutMs: 10_000 });
    const observer = db(url, tls);
    try {
      await store.migrate();
      const unsubscribe = store.onWork(() => undefined);
      const pool = new pg.Pool({ connectionString: url, ssl: { ca: fs.readFileSync(cluster.caFile, 'utf8') }, max: 1 });
      try {
        await listening(pool, schema);
      } finally {
        await pool.end();
      }
      const connections = await store.withLock('tls-test', async () => {
        const { rows } = await observer.query(
          `SELECT a.pid, s.ssl, a.query FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
           WHERE a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()`,
        );
        return rows;
      });
      unsubscribe();
      const queries = connections.map((r) => String(r.query));
      expect(queries.some((q) => q.startsWith('LISTEN'))).toBe(true);
      expect(queries.some((q) => q.includes('pg_advisory_lock'))).toBe(true);
      expect(connections.length).toBeGreaterThanOrEqual(3);
      expect(connections.filter((r) => r.ssl !== true)).toEqual([]);
    } finally {
      await observer.end();
      await store.close();
    }
  });
});

describePostgres('DATABASE_SSL against the shared server, which has no TLS', (url) => {
  it('auto falls back to plain TCP', async () => {
    expect(await usesTls(url, { setting: 'auto' })).toBe(false);
  });

  it('verify refuses, naming DATABASE_SSL', async () => {
    const err = await refusal(url, { setting: 'verify' });
    expect(err).toBeInstanceOf(DatabaseTlsError);
    expect(err.message).toContain('does not offer TLS');
    expect(err.message).toContain('DATABASE_SSL=verify');
  });

  it('autotag serve with DATABASE_SSL=verify refuses to start, naming DATABASE_SSL', async () => {
    const r = await runCli(['serve'], { DATABASE_URL: url, DATABASE_SSL: 'verify', PORT: String(await freePort()), RULES_DIR: path.join(ROOT, 'rules') });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/DATABASE_SSL=verify requires it/);
  });

  it('an sslmode=require in the URL refuses, naming it', async () => {
    const withMode = `${url}${url.includes('?') ? '&' : '?'}sslmode=require`;
    const err = await refusal(withMode, { setting: 'auto' });
    expect(err.message).toContain('sslmode=require in DATABASE_URL');
  });
});
