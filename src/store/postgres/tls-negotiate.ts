import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import type { TlsSettings } from './tls-settings';

/** A TLS setting that cannot work: no TLS where it is required, a certificate not accepted, a file not readable. */
export class DatabaseTlsError extends Error {
  constructor(
    message: string,
    /** The setting to change, as written ("DATABASE_SSL=verify", "PGSSLROOTCERT"). */
    readonly setting: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'DatabaseTlsError';
  }
}

/** What node-postgres is given as `ssl`. */
export type PgSsl = false | tls.ConnectionOptions;

export interface TlsChoice {
  ssl: PgSsl;
  /** For the log: whether TLS is used, whether the certificate is checked, and which setting decided. */
  summary: { tls: boolean; verified: 'certificate and host name' | 'certificate' | 'no'; decidedBy: string };
}

export interface TlsTarget {
  host: string;
  port: number;
}

/** The TCP host and port of a connection string; undefined for a Unix socket, which never uses TLS (as in libpq). */
export function tlsTarget(url: string): TlsTarget | undefined {
  let u: URL;
  try {
    // `user@/db` (no host) is TCP to localhost for node-postgres, as it reads it.
    u = URL.canParse(url) ? new URL(url) : new URL(url.replace('@/', '@localhost/'));
  } catch {
    return undefined;
  }
  const host = decodeURIComponent(u.searchParams.get('host') ?? u.hostname.replace(/^\[(.+)\]$/, '$1')) || 'localhost';
  if (host.startsWith('/')) return undefined;
  const port = Number(u.searchParams.get('port') ?? (u.port || 5432));
  return { host, port };
}

// https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-SSL
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

type ProbeResult = { tls: false } | { tls: true; handshakeError?: Error };

/**
 * Asks the server whether it speaks TLS (SSLRequest: 'S' or 'N') and, when it
 * does, completes one handshake with `options`, so a certificate that will not be
 * accepted is reported once, at the first connection, naming the setting.
 * Network errors are thrown as they are (the caller maps them to "unavailable").
 */
export function probeTls(target: TlsTarget, options: tls.ConnectionOptions, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: target.host, port: target.port });
    let secure: tls.TLSSocket | undefined;
    let done = false;
    const finish = (err: Error | undefined, result?: ProbeResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      secure?.destroy();
      socket.destroy();
      if (err) reject(err);
      else resolve(result as ProbeResult);
    };
    const timer = setTimeout(() => finish(Object.assign(new Error(`timeout connecting to ${target.host}:${target.port}`), { code: 'ETIMEDOUT' })), timeoutMs);
    socket.once('error', (err) => finish(err));
    socket.once('connect', () => socket.write(SSL_REQUEST));
    socket.once('data', (answer) => {
      const code = answer.subarray(0, 1).toString('latin1');
      if (code === 'N') return finish(undefined, { tls: false });
      if (code !== 'S') return finish(new Error(`unexpected answer to the TLS request from ${target.host}:${target.port}`));
      // As node-postgres does it: no SNI for an IP address (RFC 6066 §3), `host` for the identity check.
      secure = tls.connect({ ...options, socket, host: target.host, ...(net.isIP(target.host) ? {} : { servername: target.host }) });
      secure.once('secureConnect', () => finish(undefined, { tls: true }));
      secure.once('error', (err) => finish(undefined, { tls: true, handshakeError: err }));
    });
  });
}

function readFile(setting: { value: string; from: string }): string {
  try {
    return fs.readFileSync(setting.value, 'utf8');
  } catch (err) {
    throw new DatabaseTlsError(`${setting.from}: cannot read ${setting.value}: ${(err as Error).message}`, setting.from, err);
  }
}

/** Where distributions keep the system's CA bundle (Debian and Ubuntu, Fedora and RHEL, openSUSE, Alpine). */
const SYSTEM_CA_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/ca-bundle.pem', '/etc/ssl/cert.pem'];

/**
 * The CAs a verifying connection trusts when no root certificate is given (or `system`): the
 * system's, as libpq does — SSL_CERT_FILE, else the system store (Node 22.15 and later read it
 * themselves), else the bundle where the distribution keeps it; Node's own list only where no
 * system bundle is found.
 */
export function systemRoots(s: Pick<TlsSettings, 'systemCaFile'>, bundles = SYSTEM_CA_BUNDLES): { ca?: string; described: string } {
  if (s.systemCaFile) return { ca: readFile(s.systemCaFile), described: `the system's, ${s.systemCaFile.value} from ${s.systemCaFile.from}` };
  const fromNode = (tls as { getCACertificates?: (type: string) => string[] }).getCACertificates;
  if (bundles === SYSTEM_CA_BUNDLES && fromNode) {
    const system = fromNode('system');
    if (system.length > 0) return { ca: system.join('\n'), described: "the system's store" };
  }
  for (const file of bundles) {
    if (fs.existsSync(file)) return { ca: readFile({ value: file, from: 'the system' }), described: `the system's, ${file}` };
  }
  return { described: "Node's trusted roots (no system CA bundle found; set SSL_CERT_FILE)" };
}

/** The TLS options a mode implies, before knowing whether the server speaks TLS. */
function tlsOptions(s: TlsSettings): { options: tls.ConnectionOptions; verified: TlsChoice['summary']['verified']; caDescribed: string } {
  const mode = s.mode.value;
  const given = s.rootCert && s.rootCert.value !== 'system' ? readFile(s.rootCert) : undefined;
  const client = { ...(s.cert ? { cert: readFile(s.cert) } : {}), ...(s.key ? { key: readFile(s.key) } : {}) };
  // libpq: require with a root certificate given behaves as verify-ca.
  const checksCa = mode === 'verify-ca' || mode === 'verify-full' || (mode === 'require' && s.rootCert !== undefined);
  if (mode === 'verify-ca' && !s.rootCert) {
    throw new DatabaseTlsError(
      `${s.mode.from} needs the CA that signed the server's certificate: set PGSSLROOTCERT or sslrootcert in DATABASE_URL (any certificate from a public CA would pass otherwise), or use sslmode=verify-full`,
      s.mode.from,
    );
  }
  if (!checksCa) return { options: { rejectUnauthorized: false, ...client }, verified: 'no', caDescribed: 'none (not checked)' };
  const roots = given !== undefined ? { ca: given, described: `${s.rootCert!.value}, from ${s.rootCert!.from}` } : systemRoots(s);
  const options: tls.ConnectionOptions = { rejectUnauthorized: true, ...(roots.ca !== undefined ? { ca: roots.ca } : {}), ...client };
  if (mode === 'verify-full') return { options, verified: 'certificate and host name', caDescribed: roots.described };
  // verify-ca: the chain is checked, the host name is not.
  return { options: { ...options, checkServerIdentity: () => undefined }, verified: 'certificate', caDescribed: roots.described };
}

/**
 * Decides the `ssl` of every connection as libpq's sslmode would:
 * disable → plain; allow → plain, TLS when the server refuses plain;
 * prefer → TLS without checks when the server speaks it, else plain;
 * require → TLS without checks (verify-ca when a root certificate is given);
 * verify-ca / verify-full → TLS, checking the certificate (and the host name).
 * `plainRefusal` tries one plain connection (for allow only): undefined when the server took
 * it, else why it refused it.
 */
export async function chooseTls(
  s: TlsSettings,
  target: TlsTarget | undefined,
  timeoutMs: number,
  plainRefusal: () => Promise<string | undefined>,
): Promise<TlsChoice> {
  const mode = s.mode.value;
  const plain: TlsChoice = { ssl: false, summary: { tls: false, verified: 'no', decidedBy: s.mode.from } };
  if (mode === 'disable' || !target) return plain;
  const refusedPlain = mode === 'allow' ? await plainRefusal() : undefined;
  if (mode === 'allow' && refusedPlain === undefined) return plain;

  const { options, verified, caDescribed } = tlsOptions(s);
  const where = `${target.host}:${target.port}`;
  const probe = await probeTls(target, options, timeoutMs);
  if (!probe.tls) {
    if (mode === 'prefer') return plain;
    const why = mode === 'allow' ? `refused a plain connection (${refusedPlain ?? 'no reason given'}) and does not offer TLS either` : `does not offer TLS, but ${s.mode.from} requires it (DATABASE_SSL=auto uses TLS only where the server offers it)`;
    throw new DatabaseTlsError(`the PostgreSQL server at ${where} ${why}`, s.mode.from);
  }
  if (probe.handshakeError) {
    // libpq's prefer goes on without TLS when the TLS attempt fails.
    if (mode === 'prefer') return plain;
    const what = verified === 'no' ? 'the TLS handshake failed' : `its certificate was not accepted (CA: ${caDescribed}${s.rootCert ? '' : '; set PGSSLROOTCERT for your own CA'})`;
    throw new DatabaseTlsError(`PostgreSQL at ${where}: ${what}, with ${s.mode.from}: ${probe.handshakeError.message}`, s.mode.from, probe.handshakeError);
  }
  return { ssl: options, summary: { tls: true, verified, decidedBy: s.mode.from } };
}
