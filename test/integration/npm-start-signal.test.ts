import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { tempDir } from '../helpers/app-harness';
import { startService, type ServiceProcess } from '../helpers/service-process';

/**
 * Render (and anyone who types `npm start`) runs the service under npm, and npm
 * runs a script through `sh -c`. SIGTERM goes to npm; npm passes it on to its
 * child, so that child must be node itself (`exec` in the script), not a shell
 * that dies and leaves node holding the port.
 */

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, () => s.close(() => resolve(true)));
  });
}

function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

describe('npm start and SIGTERM', () => {
  let dataDir: string;
  let service: ServiceProcess | undefined;
  let servicePid: number | undefined;
  beforeAll(() => {
    dataDir = tempDir('autotag-npm-start-');
  });
  afterAll(() => {
    // Only if the test failed: never leave a service behind.
    if (servicePid && alive(servicePid)) process.kill(servicePid, 'SIGKILL');
    service?.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('SIGTERM to npm stops the service: everything exits 0 within 10 s and the port is free', async () => {
    service = await startService(
      // A clean environment: npm's own variables from an outer `npm test` must not leak in.
      { DATA_DIR: dataDir, HOME: process.env.HOME ?? os.tmpdir(), npm_config_update_notifier: 'false' },
      { command: { file: 'npm', args: ['start'] }, timeoutMs: 30_000 },
    );
    const listening = service.logs.find((l) => l.message === 'chat-autotag listening');
    // The service's own pid is in its owner id (host:pid:random).
    servicePid = Number(/:(\d+):[0-9a-f]+$/.exec(String(listening?.owner))?.[1]);
    expect(servicePid).toBeGreaterThan(0);
    expect(servicePid).not.toBe(service.proc.pid); // it runs under npm, as on Render
    expect(await portIsFree(service.port)).toBe(false);

    service.kill('SIGTERM');
    const code = await within(10_000, 'npm start exiting after SIGTERM', service.exited);
    expect(code).toBe(0);
    expect(service.logs.some((l) => l.message === 'stopped')).toBe(true);
    expect(alive(servicePid)).toBe(false);
    expect(await portIsFree(service.port)).toBe(true);
  }, 60_000);
});
