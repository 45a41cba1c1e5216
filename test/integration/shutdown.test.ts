import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { startFakeMantago, type FakeMantago, type RecordedRequest } from '../helpers/fake-tag-api';
import { COUPON_RULES, lineBody, lineText, tempDir } from '../helpers/app-harness';
import { signLine } from '../helpers/signatures';
import { mantagoEnv, postLineText, startService, type ServiceProcess } from '../helpers/service-process';

const SECRET = 'shutdown-line-secret';

describe('graceful shutdown (SIGTERM)', () => {
  let mantago: FakeMantago;
  let dataDir: string;
  let rulesDir: string;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    mantago = await startFakeMantago();
    dataDir = tempDir('autotag-term-');
    rulesDir = tempDir('autotag-term-rules-');
    fs.writeFileSync(path.join(rulesDir, 'rules.yaml'), COUPON_RULES);
  });
  afterAll(async () => {
    service?.kill('SIGKILL');
    await mantago.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(rulesDir, { recursive: true, force: true });
  });

  const env = () => ({ DATA_DIR: dataDir, RULES_DIR: rulesDir, LINE_CHANNEL_SECRET: SECRET, ...mantagoEnv(mantago), PROVIDER_CONCURRENCY: '2' });
  const post = (url: string, userId: string) => postLineText(url, SECRET, 'coupon', userId);

  it('stops taking webhooks, releases what it holds, exits 0 within 10 s; the next start applies the rest', async () => {
    // Calls hang far longer than the shutdown allows.
    mantago.api.setResponder(() => ({ delayMs: 60_000 }));
    service = await startService(env());
    for (let i = 0; i < 6; i++) expect(await post(service.url, `Uterm${i}`)).toBe(200);
    await mantago.api.waitFor((reqs) => reqs.filter((r) => r.finishedAt === undefined).length >= 2);

    const t0 = Date.now();
    service.kill('SIGTERM');
    await service.waitForLog((l) => l.message === 'shutting down');
    const during = await post(service.url, 'Ulate');
    expect([503, 'unreachable']).toContain(during);
    expect(await service.exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    // A clean stop, not the 9 s hard exit: the hanging calls are aborted once their grace is over.
    expect(service.logs.map((l) => l.message)).toContain('stopped');
    expect(service.logs.filter((l) => String(l.message).startsWith('shutdown took too long'))).toEqual([]);
    const stopped = service.logs.find((l) => l.message === 'delivery stopped');
    expect(stopped).toMatchObject({ drained: false });
    expect(Number(stopped?.released)).toBeGreaterThanOrEqual(2);
    // The aborted calls say why, before delivery stops, and write no failure of their own.
    const messages = service.logs.map((l) => String(l.message));
    const aborted = messages.flatMap((m, i) => (m === 'tag call aborted: the service is stopping; the operation stays queued' ? [i] : []));
    expect(aborted.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...aborted)).toBeLessThan(messages.indexOf('delivery stopped'));
    expect(messages.filter((m) => m === 'tag operation failed, will retry')).toEqual([]);

    // MantaGo answers again; a new start applies every operation.
    mantago.api.setResponder(undefined);
    const fresh = await startFakeMantago({ token: mantago.token, secret: mantago.secret, botId: mantago.botId });
    try {
      service = await startService({ ...env(), MANTAGO_BASE_URL: fresh.baseUrl });
      await fresh.api.waitFor(() => Array.from({ length: 6 }, (_, i) => `Uterm${i}`).every((u) => fresh.personalTagsOf('line', u).includes('tag-coupon')), 15_000);
      service.kill('SIGTERM');
      expect(await service.exited).toBe(0);
      service = undefined;
    } finally {
      await fresh.close();
    }
  }, 60_000);

  it('a webhook still arriving when SIGTERM comes gets its answer (and is stored) before the process exits', async () => {
    mantago.api.setResponder(undefined);
    service = await startService(env());
    const body = Buffer.from(lineBody([lineText('coupon', 'Uin-flight')]));
    const req = http.request(`${service.url}/webhooks/line`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(body.length), 'x-line-signature': signLine(body, SECRET) },
      agent: new http.Agent({ keepAlive: true }),
    });
    const answer = new Promise<number | string>((resolve) => {
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', (err) => resolve(err.message));
    });
    // Half the body now, the rest once the service has begun to stop.
    req.write(body.subarray(0, 20));
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    service.kill('SIGTERM');
    await service.waitForLog((l) => l.message === 'shutting down');
    req.end(body.subarray(20));
    expect(await answer).toBe(200);
    expect(await service.exited).toBe(0);
    // Not held until the grace ran out by the keep-alive connection that answered.
    expect(Date.now() - t0).toBeLessThan(4000);
    // Stored before the stop: applied then, or by the next start.
    const applied = (rs: readonly RecordedRequest[]) =>
      rs.some((r) => r.path.endsWith('/personalTagMapping') && (r.body as { platformClientId?: string }).platformClientId === 'Uin-flight' && r.status === 200);
    service = await startService(env());
    await mantago.api.waitFor(applied, 15_000);
    service.kill('SIGTERM');
    expect(await service.exited).toBe(0);
    service = undefined;
  }, 60_000);
});
