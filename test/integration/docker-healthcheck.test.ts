import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/app-harness';
import { startService, type ServiceProcess } from '../helpers/service-process';

/**
 * Docker cannot run here, but the image's HEALTHCHECK is a plain `node -e` command:
 * run exactly that command against the real service, as Docker would inside the container.
 */
function healthcheckArgv(): string[] {
  const dockerfile = fs.readFileSync(path.resolve(__dirname, '../../Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const line = dockerfile.split('\n').find((l) => l.startsWith('HEALTHCHECK '))!;
  return JSON.parse(line.slice(line.indexOf('CMD ') + 4).trim()) as string[];
}

function runHealthcheck(port: number): Promise<number> {
  const [cmd, ...args] = healthcheckArgv();
  expect(cmd).toBe('node');
  return new Promise((resolve) => {
    execFile(process.execPath, args, { env: { PATH: process.env.PATH ?? '', PORT: String(port) }, timeout: 10_000 }, (err) =>
      resolve(err ? (typeof err.code === 'number' ? err.code : 1) : 0),
    );
  });
}

describe("the Dockerfile's HEALTHCHECK", () => {
  let dataDir: string;
  let service: ServiceProcess | undefined;
  beforeAll(() => {
    dataDir = tempDir('autotag-healthcheck-');
  });
  afterAll(() => {
    service?.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('passes against a ready service and fails once it is gone', async () => {
    service = await startService({ DATA_DIR: dataDir });
    expect(await runHealthcheck(service.port)).toBe(0);
    service.kill('SIGTERM');
    expect(await service.exited).toBe(0);
    expect(await runHealthcheck(service.port)).toBe(1);
  });
});
