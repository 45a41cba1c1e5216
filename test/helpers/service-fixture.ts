import fs from 'node:fs';
import path from 'node:path';
import { COUPON_RULES, tempDir } from './app-harness';
import { startFakeMantago, type FakeMantago } from './fake-tag-api';
import { mantagoEnv, startService, type ServiceProcess } from './service-process';

export interface ServiceFixture {
  /** The fake MantaGo of the test under way. */
  readonly mantago: FakeMantago;
  /**
   * Starts a service process on `env` (its store, its retries…) with the rules folder (COUPON_RULES),
   * LINE's secret `lineSecret` and the fake MantaGo; every one is killed after the test.
   */
  start(env: Record<string, string>): Promise<ServiceProcess>;
}

/**
 * For tests of real service processes beside a fake MantaGo: registers the hooks that give each
 * test a fresh fake and rules folder, and that kill the processes it started, then remove both.
 * Call it first in its `describe`, so those run before the describe's own after-hooks (which
 * may drop the store the processes used).
 */
export function serviceFixture(o: { lineSecret: string; rulesDirPrefix: string }): ServiceFixture {
  let mantago: FakeMantago | undefined;
  let rulesDir = '';
  const services: ServiceProcess[] = [];
  beforeEach(async () => {
    mantago = await startFakeMantago();
    rulesDir = tempDir(o.rulesDirPrefix);
    fs.writeFileSync(path.join(rulesDir, 'rules.yaml'), COUPON_RULES);
  });
  afterEach(async () => {
    for (const s of services) s.kill('SIGKILL');
    await Promise.all(services.map((s) => s.exited));
    services.length = 0;
    await mantago?.close();
    fs.rmSync(rulesDir, { recursive: true, force: true });
  });
  return {
    get mantago() {
      if (!mantago) throw new Error('serviceFixture: no fake MantaGo outside a test');
      return mantago;
    },
    async start(env) {
      const s = await startService({ RULES_DIR: rulesDir, LINE_CHANNEL_SECRET: o.lineSecret, ...mantagoEnv(this.mantago), ...env });
      services.push(s);
      return s;
    },
  };
}
