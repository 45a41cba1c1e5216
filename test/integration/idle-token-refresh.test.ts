import fs from 'node:fs';
import { tempDir } from '../helpers/app-harness';
import { describeEachEngine } from '../helpers/engines';
import { jwtExpiringIn } from '../helpers/fake-jwt';
import { startFakeMantago, type FakeMantago } from '../helpers/fake-mantago';
import { dropSchema, newSchemaName } from '../helpers/pg-schema';
import { mantagoEnv, postLineText, startService, type ServiceProcess } from '../helpers/service-process';

/*
 * CONTRACT.md "Tag operations on the wire": the service refreshes the MantaGo pair "before the
 * JWT's exp when it can read it … proactively when less than 24 hours of the JWT remain". An
 * account with no tag call in its last day refreshed nothing: its token ran out, and the first
 * call after it refreshed with an expired token. The built service, idle, a fake MantaGo.
 * Needs `npm run build`.
 */
describeEachEngine('an idle MantaGo account whose token has less than 24 h left', (on) => {
  const SECRET = 'line-secret-idle-refresh';
  let dataDir: string;
  let schema: string | undefined;
  let mantago: FakeMantago;
  let service: ServiceProcess | undefined;

  beforeEach(async () => {
    dataDir = tempDir('autotag-idle-refresh-');
    schema = on.engine === 'postgres' ? newSchemaName('autotag_idle_refresh') : undefined;
    mantago = await startFakeMantago({ botId: 'bot-1', token: jwtExpiringIn(3600_000), secret: 'secret-1' });
  });
  afterEach(async () => {
    if (service) {
      service.kill('SIGKILL');
      await service.exited;
      service = undefined;
    }
    await mantago.close();
    if (on.engine === 'postgres' && schema) await dropSchema(on.url, schema);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const env = (): Record<string, string> => ({
    RULES_DIR: 'rules',
    LINE_CHANNEL_SECRET: SECRET,
    ...mantagoEnv({ baseUrl: mantago.baseUrl, botId: 'bot-1', token: mantago.token, secret: 'secret-1' }),
    ...(on.engine === 'postgres' ? { DATABASE_URL: on.url, DATABASE_SCHEMA: schema! } : { DATA_DIR: dataDir }),
  });

  it('is refreshed without waiting for a tag call, and the new pair is used from then on, after a restart too', async () => {
    const envAtStart = env();
    service = await startService(envAtStart);
    // No webhook: the refresh comes by itself.
    await mantago.api.waitFor((rs) => rs.some((r) => r.path.endsWith('/openapi/token') && r.status === 200), 10_000);
    const fresh = mantago.issued[0]!;
    expect(mantago.tagRequests).toEqual([]);

    expect(await postLineText(service.url, SECRET, '我要優惠券', 'Uidle-refresh')).toBe(200);
    await mantago.api.waitFor(() => mantago.personalTagsOf('line', 'Uidle-refresh').length > 0, 10_000);
    const [call] = mantago.tagRequests;
    expect(call!.headers.authorization).toBe(`Bearer ${fresh.token}`);
    expect((call!.body as { secret: string }).secret).toBe(fresh.secret);

    service.kill('SIGTERM');
    expect(await service.exited).toBe(0);
    // The same (now retired) pair in the environment: the stored one is used, and it has 30 days left.
    service = await startService(envAtStart);
    expect(await postLineText(service.url, SECRET, '我要優惠券', 'Uidle-restart')).toBe(200);
    await mantago.api.waitFor(() => mantago.personalTagsOf('line', 'Uidle-restart').length > 0, 10_000);
    expect(mantago.tagRequests[1]!.headers.authorization).toBe(`Bearer ${fresh.token}`);
    expect(mantago.tokenRequests).toHaveLength(1);
  }, 45_000);
});
