import request from 'supertest';
import { startFakeMantago, type FakeMantago } from '../helpers/fake-tag-api';
import { signLine } from '../helpers/signatures';
import { COUPON_RULES, lineBody, lineText, startHarness, type Harness } from '../helpers/app-harness';
import { startDelivery, type RunningDelivery } from '../helpers/delivery-harness';

const LINE_SECRET = 'line-secret-rate-limited-drain';
const DESTINATION = 'Ubotdestination0000000000000000015';
const USERS = 300;

/**
 * A queue drained into a token-bucket API (test/helpers/fake-token-bucket.ts: 100/s, bursts of
 * 2, every 429 with `Retry-After: 1`) by the real delivery loop with the adaptive concurrency
 * (PROVIDER_CONCURRENCY unset). Only what must hold however fast the machine is: every operation
 * applied, never two calls for one key at once, and few 429s — speed is `npm run bench:drain`.
 */
describe('draining into a rate-limited API', () => {
  let h: Harness;
  let mantago: FakeMantago;
  let running: RunningDelivery | undefined;

  beforeEach(async () => {
    mantago = await startFakeMantago({ latencyMs: 10, rateLimit: { perSecond: 100, burst: 2 } });
    h = await startHarness({ LINE_CHANNEL_SECRET: LINE_SECRET }, { 'rules.yaml': COUPON_RULES });
  });
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await h.cleanup();
    await mantago.close();
  });

  it('applies every operation, one call per key at a time, with few 429s', async () => {
    for (let i = 0; i < USERS; i += 50) {
      const events = Array.from({ length: 50 }, (_, j) => lineText('coupon', `Udrain${String(i + j).padStart(4, '0')}`));
      const body = lineBody(events, DESTINATION);
      await request(h.app).post('/webhooks/line').set('content-type', 'application/json').set('x-line-signature', signLine(body, LINE_SECRET)).send(body).expect(200);
    }
    running = await startDelivery(h, {
      MANTAGO_BASE_URL: mantago.baseUrl,
      MANTAGO_BOT_ID: mantago.botId,
      MANTAGO_TOKEN: mantago.token,
      MANTAGO_SECRET: mantago.secret,
    });
    await running.waitForOutcomes(USERS, (o) => o.outcome === 'applied', 90_000);

    for (let i = 0; i < USERS; i++) expect(mantago.personalTagsOf('line', `Udrain${String(i).padStart(4, '0')}`)).toEqual(['tag-coupon']);
    expect(mantago.api.overlaps).toEqual([]);
    const calls = mantago.tagRequests;
    const refused = calls.filter((r) => r.rateLimited);
    // The limit was met — the worker's first claim sends 8 calls at once into a bucket of 2, on a
    // machine of any speed (with bursts of 10 a starved machine once sent too slowly to meet it) —, every 429 with
    // Retry-After: 1 (a pause of the account: delivery.test.ts checks that it is honoured)…
    expect(refused.length).toBeGreaterThan(0);
    // Few of them: 429s are answered with a pause, not met again and again.
    expect(refused.length / calls.length).toBeLessThanOrEqual(0.1);
    expect(running.outcomes.filter((o) => o.outcome === 'dead')).toEqual([]);
  }, 120_000);
});
