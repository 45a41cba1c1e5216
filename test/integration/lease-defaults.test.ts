import fs from 'node:fs';
import { tempDir } from '../helpers/app-harness';
import { startService, type ServiceProcess } from '../helpers/service-process';
import { runCli } from '../cli/cli-run';
import { freePort } from '../helpers/free-port';

/**
 * The built service, started as `npm start` starts it: `LEASE_MS=3000` alone
 * used to stop it ("FORWARD_TIMEOUT_MS: must be shorter than LEASE_MS") although
 * no timeout was set. Needs `npm run build`.
 */
describe('LEASE_MS alone starts the service', () => {
  let dataDir: string;
  let service: ServiceProcess | undefined;
  beforeEach(() => {
    dataDir = tempDir('autotag-lease-');
  });
  afterEach(async () => {
    if (service) {
      service.kill('SIGKILL');
      await service.exited;
      service = undefined;
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('with LEASE_MS=3000 and no timeout set, it starts, is ready, and stops cleanly', async () => {
    service = await startService({ LEASE_MS: '3000', DATA_DIR: dataDir, RULES_DIR: 'rules' });
    const ready = await fetch(`${service.url}/readyz`);
    expect(ready.status).toBe(200);
    service.kill('SIGTERM');
    expect(await service.exited).toBe(0);
    service = undefined;
  });

  it('with a timeout set explicitly that is not shorter than LEASE_MS, it refuses to start and says what to do', async () => {
    const r = await runCli(['serve'], { LEASE_MS: '3000', FORWARD_TIMEOUT_MS: '3000', DATA_DIR: dataDir, PORT: String(await freePort()) });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/FORWARD_TIMEOUT_MS: 3000 is not shorter than LEASE_MS \(3000\), so a call could outlive its lease; set FORWARD_TIMEOUT_MS below LEASE_MS, raise LEASE_MS, or unset FORWARD_TIMEOUT_MS/);
  });
});
