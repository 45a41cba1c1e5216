import fs from 'node:fs';
import path from 'node:path';
import { startFakeMantago, type FakeMantago } from '../helpers/fake-tag-api';
import { COUPON_RULES, tempDir } from '../helpers/app-harness';
import { describePostgres, dropSchema, newSchemaName } from '../helpers/pg-schema';
import { FAST_DELIVERY_ENV, mantagoEnv, postLineText, startService, type ServiceProcess } from '../helpers/service-process';

const SECRET = 'multi-instance-line-secret';

describePostgres('several instances on one PostgreSQL database', (url) => {
  let mantago: FakeMantago;
  let rulesDir: string;
  let schema: string;
  const services: ServiceProcess[] = [];

  beforeAll(async () => {
    mantago = await startFakeMantago({ latencyMs: 20 });
    rulesDir = tempDir('autotag-mi-rules-');
    fs.writeFileSync(
      path.join(rulesDir, 'rules.yaml'),
      COUPON_RULES +
        `
  - id: subscribe
    when: { text: { equals: subscribe } }
    then: [ { add_tag: tag-newsletter } ]
  - id: stop
    when: { text: { equals: stop } }
    then: [ { remove_tag: tag-newsletter } ]
`,
    );
    schema = newSchemaName('autotag_mi');
  });
  afterAll(async () => {
    for (const s of services) s.kill('SIGKILL');
    await Promise.all(services.map((s) => s.exited));
    await mantago.close();
    fs.rmSync(rulesDir, { recursive: true, force: true });
    await dropSchema(url, schema);
  });

  // Both instances call the one account (the default, one caller per account, is one-caller.test.ts).
  const env = () => ({ DATABASE_URL: url, DATABASE_SCHEMA: schema, RULES_DIR: rulesDir, LINE_CHANNEL_SECRET: SECRET, ...mantagoEnv(mantago), ...FAST_DELIVERY_ENV, PROVIDER_CALLERS: 'every' });
  const post = async (s: ServiceProcess, text: string, userId: string) => (await postLineText(s.url, SECRET, text, userId)) === 200;

  it('two instances drain one queue without calling a key twice at once; a SIGKILL loses nothing', async () => {
    // Both start together: migrations run under a lock.
    const [a, b] = await Promise.all([startService(env()), startService(env())]);
    services.push(a!, b!);

    // Sequential add/remove for some users, alternating instances: the last event wins.
    const flippers = Array.from({ length: 10 }, (_, i) => `Uflip${i}`);
    for (const u of flippers) {
      expect(await post(a!, 'subscribe', u)).toBe(true);
      expect(await post(b!, 'stop', u)).toBe(true);
    }

    const users = Array.from({ length: 300 }, (_, i) => `Umi${String(i).padStart(4, '0')}`);
    const unacked: string[] = [];
    const queue = [...users];
    const burst = Promise.all(
      Array.from({ length: 8 }, async (_, worker) => {
        for (let u = queue.shift(); u !== undefined; u = queue.shift()) {
          const target = worker % 2 === 0 ? a! : b!;
          if (!(await post(target, 'coupon', u))) unacked.push(u);
        }
      }),
    );
    await mantago.api.waitFor((reqs) => reqs.filter((r) => r.path.endsWith('/personalTagMapping')).length >= 80, 30_000);
    a!.kill('SIGKILL');
    await burst;
    expect(await a!.exited).toBe('SIGKILL');

    // What the dead instance never acknowledged, the platform redelivers (to the survivor).
    for (const u of unacked) expect(await post(b!, 'coupon', u)).toBe(true);
    await mantago.api.waitFor(() => users.every((u) => mantago.personalTagsOf('line', u).includes('tag-coupon')), 60_000);

    expect(users.filter((u) => !mantago.personalTagsOf('line', u).includes('tag-coupon'))).toEqual([]);
    for (const u of flippers) expect(mantago.personalTagsOf('line', u)).toEqual([]);
    expect(mantago.api.overlaps).toEqual([]);
    const calls = new Map<string, { n: number; user: string }>();
    for (const r of mantago.tagRequests) {
      const k = `${r.path} ${JSON.stringify(r.body)}`;
      calls.set(k, { n: (calls.get(k)?.n ?? 0) + 1, user: (r.body as { platformClientId: string }).platformClientId });
    }
    // A call an instance saw fail (on a loaded machine: a 20 ms call past its 1 s deadline,
    // its answer lost) is retried — a repeat the instance logs, whatever the kill did.
    const failures = new Map<unknown, number>();
    for (const l of [...a!.logs, ...b!.logs]) if (l.message === 'tag operation failed, will retry') failures.set(l.userId, (failures.get(l.userId) ?? 0) + 1);
    const repeated = [...calls.values()].filter((c) => c.n - 1 > (failures.get(c.user) ?? 0)).length;
    // Any other repeat is a call the killed instance had in hand at the kill (in flight, or
    // answered but not yet recorded): at most its PROVIDER_CONCURRENCY.
    expect(repeated).toBeLessThanOrEqual(4);
    // both instances did part of the work
    expect(a!.logs.some((l) => l.message === 'tag operation applied')).toBe(true);
    expect(b!.logs.some((l) => l.message === 'tag operation applied')).toBe(true);

    b!.kill('SIGTERM');
    expect(await b!.exited).toBe(0);
  }, 120_000);
});
