import pg from 'pg';
import request from 'supertest';
import { silentLogger } from '../../src/log';
import { createPostgresStore } from '../../src/store/postgres';
import type { Store } from '../../src/store/store';
import { COUPON_RULES, lineBody, lineText, startHarness, type Harness } from '../helpers/app-harness';
import { startDelivery, type RunningDelivery } from '../helpers/delivery-harness';
import { startFakeMantago, type FakeMantago } from '../helpers/fake-tag-api';
import { describePostgres } from '../helpers/pg-schema';
import { signLine } from '../helpers/signatures';
import { listening, until } from '../store/pg-waits';
import { startTcpProxy, type TcpProxy } from '../store/tcp-proxy';

/*
 * CONTRACT.md "Retries": a `Retry-After` pauses calls to that provider account on every instance.
 * One instance's connections to PostgreSQL are down (a TCP proxy cut) while another shares a
 * pause: the NOTIFY never reaches it. Once its LISTEN connection is back it reads the pause kept
 * in the store, and a webhook it takes makes no call to the account until the pause ends.
 */

const SECRET = 'pause-unheard-line-secret';
const PAUSE_MS = 5000;
const unheardLog = 'calls to a provider account paused: another instance met its Retry-After while this one was not listening';

describePostgres('a Retry-After pause shared while an instance could not hear it (PostgreSQL)', (url) => {
  let mantago: FakeMantago;
  let proxy: TcpProxy;
  let h: Harness;
  let running: RunningDelivery;
  let other: Store;
  let admin: pg.Pool;

  beforeEach(async () => {
    mantago = await startFakeMantago();
    const target = new URL(url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const viaProxy = new URL(url);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    const env = {
      LINE_CHANNEL_SECRET: SECRET, RETRY_MIN_MS: '50', RETRY_MAX_MS: '10000',
      MANTAGO_BASE_URL: mantago.baseUrl, MANTAGO_BOT_ID: mantago.botId, MANTAGO_TOKEN: mantago.token, MANTAGO_SECRET: mantago.secret,
    };
    h = await startHarness(env, { 'rules.yaml': COUPON_RULES }, { engine: 'postgres', url: viaProxy.toString() });
    running = await startDelivery(h, env);
    // Another instance on the same schema, reaching the database directly.
    other = createPostgresStore({ url, schema: h.schema, log: silentLogger(), poolSize: 1, connectTimeoutMs: 3000, statementTimeoutMs: 10_000 });
    admin = new pg.Pool({ connectionString: url, max: 1 });
  });
  afterEach(async () => {
    await admin.end();
    await other.close();
    await running.stop();
    await h.cleanup();
    await proxy.close();
    await mantago.close();
  });

  it('reads the pause when its LISTEN connection is back, and calls the account only once it has ended', async () => {
    // Listening first, so that the cut below is a reconnect.
    await listening(admin, h.schema!);
    proxy.cut();
    const sharedAt = Date.now();
    await other.sharePause('mantago', sharedAt + PAUSE_MS, sharedAt);
    const pauseEnd = sharedAt + PAUSE_MS;
    proxy.restore();

    // The Retry-After is read before any webhook is taken (a claim could otherwise race the read).
    await until('the pause kept in the store is read', async () => h.logs.parsed().some((l) => l.message === unheardLog), 10_000);
    expect(h.logs.parsed().filter((l) => l.message === unheardLog)).toEqual([expect.objectContaining({ account: 'mantago', pauseMs: expect.any(Number) })]);
    const body = lineBody([lineText('coupon', 'U-after-reconnect')]);
    await request(h.app).post('/webhooks/line').set('content-type', 'application/json').set('x-line-signature', signLine(body, SECRET)).send(body).expect(200);
    expect(pauseEnd - Date.now()).toBeGreaterThan(1000); // taken well within the pause
    await running.waitForOutcomes(1, (o) => o.outcome === 'applied', 15_000);
    const [call] = mantago.api.requests;
    expect(call!.receivedAt - pauseEnd).toBeGreaterThanOrEqual(-20);
    expect(call!.receivedAt - pauseEnd).toBeLessThan(1000);
  }, 30_000);
});
