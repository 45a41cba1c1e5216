import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A throwaway PostgreSQL cluster that speaks TLS only (pg_hba `hostssl`), with a CA
 * and a server certificate made by openssl for this run — so TLS can be tested for
 * real without touching the shared server. The certificate names 127.0.0.1 only,
 * so `localhost` reaches the same server under a name the certificate does not hold.
 */
export interface TlsCluster {
  port: number;
  /** The CA that signed the server's certificate. */
  caFile: string;
  /** A CA that signed nothing the server shows. */
  otherCaFile: string;
  url(host?: string, query?: string): string;
  stop(): Promise<void>;
}

/** The newest PostgreSQL server binaries on this machine (Debian's layout), if any. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return undefined;
  const versions = fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb')));
  versions.sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], 'bin') : undefined;
}

/** Why a TLS test cluster cannot be made on this machine, or undefined when it can. */
export function tlsClusterUnavailable(bin: string | undefined): string | undefined {
  if (!bin) return 'initdb was not found under /usr/lib/postgresql/*/bin';
  if (spawnSync('openssl', ['version']).status !== 0) return 'openssl was not found';
  if (process.getuid?.() === 0 && spawnSync('id', ['-u', 'postgres']).status !== 0) return 'running as root, and there is no postgres user to run initdb as';
  return undefined;
}

/** initdb and the server refuse to run as root: as root they run as the `postgres` user. */
function asServerUser(bin: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function makeCertificates(dir: string): Promise<void> {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const ca = (name: string) =>
    run('openssl', ['req', '-x509', ...ec, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=autotag test ${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], { cwd: dir });
  await Promise.all([ca('ca'), ca('other-ca')]);
  await run('openssl', ['req', '-new', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'], { cwd: dir });
  fs.writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  await run('openssl', ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext'], { cwd: dir });
}

export async function startTlsCluster(bin: string): Promise<TlsCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autotag-tls-'));
  const data = path.join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const pgCtl = (args: string[]) => {
    const [cmd, argv] = asServerUser(path.join(bin, 'pg_ctl'), args);
    return run(cmd, argv);
  };
  let started = false;
  const cleanUp = async () => {
    if (started) await pgCtl(['stop', '-D', data, '-m', 'immediate', '-s']).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await makeCertificates(dir);
    // The server reads its key only if no one else can (0600, its own user).
    fs.chmodSync(path.join(dir, 'server.key'), 0o600);
    if (asRoot) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const uid = Number(stdout.trim());
      const { stdout: g } = await run('id', ['-g', 'postgres']);
      for (const f of ['', 'server.key', 'server.crt']) fs.chownSync(path.join(dir, f), uid, Number(g.trim()));
    }
    const [initCmd, initArgs] = asServerUser(path.join(bin, 'initdb'), ['-D', data, '--no-sync', '--no-instructions', '-A', 'trust', '-U', 'postgres', '-E', 'UTF8']);
    await run(initCmd, initArgs);
    fs.appendFileSync(
      path.join(data, 'postgresql.conf'),
      [
        'ssl = on',
        `ssl_cert_file = '${path.join(dir, 'server.crt')}'`,
        `ssl_key_file = '${path.join(dir, 'server.key')}'`,
        // ::1 may be missing (no IPv6): the server then listens on 127.0.0.1 alone.
        "listen_addresses = '127.0.0.1,::1'",
        `unix_socket_directories = '${dir}'`,
        'fsync = off',
        'max_connections = 20',
        '',
      ].join('\n'),
    );
    fs.writeFileSync(
      path.join(data, 'pg_hba.conf'),
      ['local all all trust', 'hostssl all all 127.0.0.1/32 trust', 'hostssl all all ::1/128 trust', ''].join('\n'),
    );
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await pgCtl(['start', '-D', data, '-w', '-t', '30', '-s', '-l', path.join(dir, 'server.log'), '-o', `-p ${port}`]);
        started = true;
        break;
      } catch (err) {
        // Another process may have taken the port between freePort and start.
        if (attempt === 3) throw new Error(`the TLS test cluster did not start: ${(err as Error).message}\n${fs.readFileSync(path.join(dir, 'server.log'), 'utf8')}`);
      }
    }
    return {
      port,
      caFile: path.join(dir, 'ca.crt'),
      otherCaFile: path.join(dir, 'other-ca.crt'),
      url: (host = '127.0.0.1', query = '') => `postgres://postgres@${host}:${port}/postgres${query ? `?${query}` : ''}`,
      stop: cleanUp,
    };
  } catch (err) {
    await cleanUp();
    throw err;
  }
}
