import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';
import { chooseTls, systemRoots, tlsTarget } from '../../src/store/postgres/tls-negotiate';
import { tlsSettings, withoutTlsParams } from '../../src/store/postgres/tls-settings';

describe('PostgreSQL TLS settings', () => {
  it('DATABASE_SSL maps to libpq modes: auto = prefer, verify = verify-full, off = disable', () => {
    const url = 'postgres://u:p@db.example:5432/app';
    expect(tlsSettings(url, { setting: 'auto' }).mode).toEqual({ value: 'prefer', from: 'DATABASE_SSL=auto' });
    expect(tlsSettings(url, { setting: 'verify' }).mode).toEqual({ value: 'verify-full', from: 'DATABASE_SSL=verify' });
    expect(tlsSettings(url, { setting: 'off' }).mode).toEqual({ value: 'disable', from: 'DATABASE_SSL=off' });
  });

  it('an sslmode in the URL wins over PGSSLMODE, which wins over DATABASE_SSL', () => {
    expect(tlsSettings('postgres://h/db?sslmode=require', { setting: 'off', pgSslMode: 'disable' }).mode).toEqual({
      value: 'require',
      from: 'sslmode=require in DATABASE_URL',
    });
    expect(tlsSettings('postgres://h/db', { setting: 'off', pgSslMode: 'verify-ca' }).mode).toEqual({ value: 'verify-ca', from: 'PGSSLMODE=verify-ca' });
    // node-postgres's own spellings
    expect(tlsSettings('postgres://h/db?sslmode=no-verify', { setting: 'verify' }).mode.value).toBe('require');
    expect(tlsSettings('postgres://h/db?ssl=true', { setting: 'verify' }).mode.value).toBe('require');
    expect(tlsSettings('postgres://h/db?ssl=0', { setting: 'verify' }).mode.value).toBe('disable');
  });

  it('certificate files: the URL first, then PGSSLROOTCERT / PGSSLCERT / PGSSLKEY', () => {
    const s = tlsSettings('postgres://h/db?sslrootcert=/etc/ca.pem', { setting: 'verify', pgSslRootCert: '/env/ca.pem', pgSslCert: '/env/c.pem', pgSslKey: '/env/k.pem' });
    expect(s.rootCert).toEqual({ value: '/etc/ca.pem', from: 'sslrootcert in DATABASE_URL' });
    expect(s.cert).toEqual({ value: '/env/c.pem', from: 'PGSSLCERT' });
    expect(s.key).toEqual({ value: '/env/k.pem', from: 'PGSSLKEY' });
  });

  it('takes the TLS parameters out of the URL given to node-postgres, and leaves other URLs as they are', () => {
    const plain = 'postgres://u:p%40ss@db.example:6543/app?application_name=x';
    expect(withoutTlsParams(plain)).toBe(plain);
    const stripped = new URL(withoutTlsParams('postgres://u:p%40ss@db.example:6543/app?sslmode=require&sslrootcert=/ca&ssl=true&application_name=x'));
    expect([...stripped.searchParams.keys()]).toEqual(['application_name']);
    expect(stripped.password).toBe('p%40ss');
    expect(stripped.host).toBe('db.example:6543');
  });

  it('finds the TCP target; a Unix socket has none (never TLS, as in libpq)', () => {
    expect(tlsTarget('postgres://u@db.example/app')).toEqual({ host: 'db.example', port: 5432 });
    expect(tlsTarget('postgres://u@[::1]:7000/app')).toEqual({ host: '::1', port: 7000 });
    expect(tlsTarget('postgres://u@/app?host=%2Fvar%2Frun%2Fpostgresql')).toBeUndefined();
    // No host at all: node-postgres connects over TCP to localhost, so TLS settings apply there.
    expect(tlsTarget('postgres://u:p@/app')).toEqual({ host: 'localhost', port: 5432 });
  });
});

describe('loadConfig: DATABASE_SSL', () => {
  it('defaults to auto and reads libpq variables', () => {
    expect(loadConfig({}).database.tls).toEqual({ setting: 'auto', pgSslMode: undefined, pgSslRootCert: undefined, pgSslCert: undefined, pgSslKey: undefined });
    expect(loadConfig({ DATABASE_SSL: 'Verify', PGSSLROOTCERT: '/ca.pem' }).database.tls).toMatchObject({ setting: 'verify', pgSslRootCert: '/ca.pem' });
  });

  it('names the variable for a bad value, and never shows the password of DATABASE_URL', () => {
    expect(() => loadConfig({ DATABASE_SSL: 'yes' })).toThrow(/DATABASE_SSL: must be one of auto, verify, off/);
    expect(() => loadConfig({ PGSSLMODE: 'strict' })).toThrow(/PGSSLMODE: must be one of disable, allow, prefer/);
    let err: unknown;
    try {
      loadConfig({ DATABASE_URL: 'postgres://u:hunter22@db.example/app?sslmode=verify' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('DATABASE_URL: sslmode=verify is not one of disable, allow, prefer, require, verify-ca, verify-full');
    expect((err as Error).message).not.toContain('hunter22');
  });
});

describe("the system's CA bundle (verify without PGSSLROOTCERT)", () => {
  it('is the first bundle found where distributions keep it; Node\'s own list only where there is none', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autotag-ca-'));
    try {
      const bundle = path.join(dir, 'ca-bundle.crt');
      fs.writeFileSync(bundle, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
      expect(systemRoots({}, [path.join(dir, 'missing.crt'), bundle])).toEqual({ ca: fs.readFileSync(bundle, 'utf8'), described: `the system's, ${bundle}` });
      expect(systemRoots({}, [path.join(dir, 'missing.crt')])).toEqual({ described: "Node's trusted roots (no system CA bundle found; set SSL_CERT_FILE)" });
      // SSL_CERT_FILE wins; one that cannot be read is an error naming it.
      expect(systemRoots({ systemCaFile: { value: bundle, from: 'SSL_CERT_FILE' } }, []).described).toBe(`the system's, ${bundle} from SSL_CERT_FILE`);
      expect(() => systemRoots({ systemCaFile: { value: path.join(dir, 'nope.crt'), from: 'SSL_CERT_FILE' } }, [])).toThrow(/^SSL_CERT_FILE: cannot read /);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sslmode=allow against a server that refuses plain and offers no TLS', () => {
  /** A server that answers PostgreSQL's SSLRequest with N (no TLS), as one without ssl=on does. */
  let server: net.Server;
  let port: number;
  beforeAll(async () => {
    server = net.createServer((socket) => {
      socket.once('data', () => socket.end('N'));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

  it('says why the plain connection was refused (a refused login is not hidden behind "no TLS")', async () => {
    const url = `postgres://someone@127.0.0.1:${port}/db?sslmode=allow`;
    const refused = chooseTls(tlsSettings(url, { setting: 'auto' }), tlsTarget(url), 2000, async () => 'role "someone" is not permitted to log in');
    await expect(refused).rejects.toThrow(`the PostgreSQL server at 127.0.0.1:${port} refused a plain connection (role "someone" is not permitted to log in) and does not offer TLS either`);
  });

  it('connects plain when the plain attempt is taken', async () => {
    const url = `postgres://someone@127.0.0.1:${port}/db?sslmode=allow`;
    expect((await chooseTls(tlsSettings(url, { setting: 'auto' }), tlsTarget(url), 2000, async () => undefined)).ssl).toBe(false);
  });
});
