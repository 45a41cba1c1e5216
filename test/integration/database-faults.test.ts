import fs from 'node:fs';
import path from 'node:path';
import { startFakeMantago, type FakeMantago } from '../helpers/fake-tag-api';
import { signLine } from '../helpers/signatures';
import { COUPON_RULES, lineBody, lineText, tempDir } from '../helpers/app-harness';
import { describePostgres, dropSchema, newSchemaName } from '../helpers/pg-schema';
import { mantagoEnv, startService, type ServiceProcess } from '../helpers/service-process';
import { startTcpProxy, type TcpProxy } from '../store/tcp-proxy';

const SECRET = 'db-fault-line-secret';

describePostgres('PostgreSQL unreachable while the service runs', (url) => {
  let mantago: FakeMantago;
  let proxy: TcpProxy;
  let rulesDir: string;
  let schema: string;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    mantago = await startFakeMantago();
    const u = new URL(url);
    proxy = await startTcpProxy({ host: u.hostname, port: Number(u.port || 5432) });
    rulesDir = tempDir('autotag-dbf-rules-');
    fs.writeFileSync(path.join(rulesDir, 'rules.yaml'), COUPON_RULES);
    schema = newSchemaName('autotag_dbf');
  });
  afterAll(async () => {
    service?.kill('SIGKILL');
    await service?.exited;
    await proxy.close();
    await mantago.close();
    fs.rmSync(rulesDir, { recursive: true, force: true });
    await dropSchema(url, schema);
  });

  const post = async (s: ServiceProcess, userId: string) => {
    const body = lineBody([lineText('coupon', userId)]);
    const res = await fetch(`${s.url}/webhooks/line`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-line-signature': signLine(body, SECRET) }, body });
    return { status: res.status, body: (await res.json()) as { error?: string } };
  };

  it('answers 503 (so the platform retries) and says why on /readyz, then recovers by itself', async () => {
    const viaProxy = new URL(url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    service = await startService({
      DATABASE_URL: viaProxy.toString(),
      DATABASE_SCHEMA: schema,
      DATABASE_CONNECT_TIMEOUT_MS: '1000',
      DATABASE_STATEMENT_TIMEOUT_MS: '2000',
      RULES_DIR: rulesDir,
      LINE_CHANNEL_SECRET: SECRET,
      ...mantagoEnv(mantago),
    });
    expect((await post(service, 'Ubefore')).status).toBe(200);
    expect((await fetch(`${service.url}/readyz`)).status).toBe(200);

    proxy.cut();
    const during = await post(service, 'Uduring');
    expect(during.status).toBe(503);
    expect(during.body.error).toMatch(/store is unavailable/);
    const ready = await fetch(`${service.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { reason: string }).reason).toMatch(/^store \(postgres\)/);
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);

    proxy.restore();
    // The pool reconnects on its own; the platform's retry then succeeds.
    let again = await post(service, 'Uduring');
    for (let i = 0; i < 20 && again.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 250)); // the platform's own retry interval, compressed
      again = await post(service, 'Uduring');
    }
    expect(again.status).toBe(200);
    expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
    await mantago.api.waitFor(() => ['Ubefore', 'Uduring'].every((u) => mantago.personalTagsOf('line', u).includes('tag-coupon')), 15_000);

    service.kill('SIGTERM');
    expect(await service.exited).toBe(0);
    service = undefined;
  }, 60_000);
});
