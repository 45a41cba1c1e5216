import fs from 'node:fs';
import path from 'node:path';
import { startFakeMantago, type FakeMantago } from '../helpers/fake-tag-api';
import { tempDir } from '../helpers/app-harness';
import { FAST_DELIVERY_ENV, mantagoEnv, postLineText, startService, type ServiceProcess } from '../helpers/service-process';
import { runCli } from '../cli/cli-run';

const SECRET = 'lifetime-test-line-secret';
const LIFETIME_MS = 2000;

const TRIAL_RULES = `
defaults:
  provider: mantago
rules:
  - id: trial
    when: { text: { contains: trial } }
    then:
      - add_tag: tag-trial
        for: 2s
`;
const WITHOUT_TRIAL = `
defaults:
  provider: mantago
rules:
  - id: coupon
    when: { text: { contains: coupon } }
    then:
      - add_tag: tag-coupon
`;

/**
 * `for:` in the built service, as a child process: the removal reaches MantaGo at event
 * time + lifetime — woken by its due time while running, sent at the next start when the
 * service was stopped at that time — and it outlives the deletion of the rule that set it.
 */
describe('tag lifetimes in the running service (child process, SQLite)', () => {
  let mantago: FakeMantago;
  let dataDir: string;
  let rulesDir: string;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    mantago = await startFakeMantago();
    dataDir = tempDir('autotag-lifetime-');
    rulesDir = tempDir('autotag-lifetime-rules-');
  });
  afterAll(async () => {
    service?.kill('SIGKILL');
    await service?.exited;
    await mantago.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(rulesDir, { recursive: true, force: true });
  });

  const env = () => ({ DATA_DIR: dataDir, RULES_DIR: rulesDir, LINE_CHANNEL_SECRET: SECRET, ...mantagoEnv(mantago), ...FAST_DELIVERY_ENV });
  const removalFor = (userId: string) =>
    mantago.api.waitFor(
      (reqs) => reqs.some((r) => r.path.endsWith('/delete') && (r.body as { platformClientId?: string }).platformClientId === userId),
      15_000,
    );
  const requestsOf = (userId: string) => mantago.tagRequests.filter((r) => (r.body as { platformClientId?: string }).platformClientId === userId);

  it('removes the tag at its time, across a stop and a start, after its rule was deleted', async () => {
    fs.writeFileSync(path.join(rulesDir, 'rules.yaml'), TRIAL_RULES);
    service = await startService(env());

    // While running: woken by the due time.
    const runningAt = Date.now();
    expect(await postLineText(service.url, SECRET, 'my trial', 'Urunning', { timestamp: runningAt })).toBe(200);
    await removalFor('Urunning');
    const [add, remove] = requestsOf('Urunning');
    expect(add?.path).toBe('/api/openapi/personalTagMapping');
    expect(remove?.path).toBe('/api/openapi/personalTagMapping/delete');
    expect(remove!.receivedAt).toBeGreaterThanOrEqual(runningAt + LIFETIME_MS);

    // Stopped at the due time, with the rule deleted meanwhile: sent at the next start.
    const stoppedAt = Date.now();
    expect(await postLineText(service.url, SECRET, 'trial please', 'Ustopped', { timestamp: stoppedAt })).toBe(200);
    await mantago.api.waitFor((reqs) => reqs.some((r) => (r.body as { platformClientId?: string }).platformClientId === 'Ustopped'), 5000);
    service.kill('SIGTERM');
    expect(await service.exited).toBe(0);
    service = undefined;
    fs.writeFileSync(path.join(rulesDir, 'rules.yaml'), WITHOUT_TRIAL);
    // Time has to pass with the service stopped: this is what the test is about.
    await new Promise((r) => setTimeout(r, Math.max(0, stoppedAt + LIFETIME_MS + 200 - Date.now())));
    expect(requestsOf('Ustopped').map((r) => r.path)).toEqual(['/api/openapi/personalTagMapping']);

    service = await startService(env());
    await removalFor('Ustopped');
    expect(mantago.personalTagsOf('line', 'Ustopped')).toEqual([]);
    expect(mantago.personalTagsOf('line', 'Urunning')).toEqual([]);

    const history = await runCli(['history', '--user', 'Ustopped'], env());
    expect(history.code).toBe(0);
    expect(history.stdout).toMatch(/expired: remove mantago\/personal tag tag-trial — the lifetime set by rule trial ended/);
    expect(history.stdout).toMatch(/call remove mantago\/personal tag tag-trial: applied \(200\)/);

    service.kill('SIGTERM');
    expect(await service.exited).toBe(0);
    service = undefined;
  }, 60_000);
});
