import request from 'supertest';
import { createAdminRouter } from '../../src/admin';
import { createApp } from '../../src/app';
import type { DeadLetter } from '../../src/store/store';
import { runCli } from '../cli/cli-run';
import { startHarness, type Harness } from '../helpers/app-harness';
import { accepted, batch, forwardTo } from '../store/builders';

const TOKEN = 'admin-token-for-destination-tests-7d2e';
/** A destination that authenticates with its URL: a user name and password, and a token in the query. */
const DESTINATION = 'https://relay:pa55-w0rd@hook.example/line/in?token=s3cr3t-query-token#frag';
const SHOWN = 'https://hook.example/line/in';

describe('a dead forward as the operator sees it: the destination without the credentials its URL holds', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ ADMIN_TOKEN: TOKEN });
    await h.store.accept(batch(1000, [accepted('dest-1', [])], [forwardTo(DESTINATION)]));
    const [fwd] = await h.store.claimForwards({ owner: 'w', now: 1000, limit: 1, leaseMs: 60_000 });
    if (!fwd) throw new Error('expected the forward to be claimed');
    await h.store.deadLetterForward(fwd, 'w', 2000, { reason: '403 from the destination', status: 403 });
  }, 60_000);
  afterAll(async () => h.cleanup());

  const noCredentials = (text: string) => {
    expect(text).not.toContain('pa55-w0rd');
    expect(text).not.toContain('s3cr3t-query-token');
    expect(text).not.toContain('relay:');
  };

  it('autotag dead-letters list shows scheme, host and path; --json keeps the whole URL (it is the configuration)', async () => {
    const env = { DATA_DIR: h.dataDir };
    const text = await runCli(['dead-letters', 'list'], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`forward to ${SHOWN} (received`);
    noCredentials(text.stdout);

    const json = await runCli(['dead-letters', 'list', '--json'], env);
    expect(json.code).toBe(0);
    expect((JSON.parse(json.stdout) as DeadLetter[])[0]?.forward?.destination).toBe(DESTINATION);
  });

  it('/admin shows scheme, host and path', async () => {
    const router = createAdminRouter({ config: h.config, store: h.store, rules: () => h.ruleSet, log: h.log, now: () => Date.now(), onRetry: () => undefined });
    const admin = createApp({ config: h.config, log: h.log, metrics: h.metrics, store: h.store, rules: { current: () => h.ruleSet }, admin: router });
    const page = await request(admin).get('/admin').set('authorization', `Bearer ${TOKEN}`).expect(200);
    expect(page.text).toContain(`forward to ${SHOWN} (ordering key U1)`);
    noCredentials(page.text);
  });
});
