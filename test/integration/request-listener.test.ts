import request from 'supertest';
import { requestListener } from '../../src/request-listener';
import { AckPressure } from '../../src/delivery/ack-pressure';
import { signLine } from '../helpers/signatures';
import { lineBody, lineText, startHarness, type Harness } from '../helpers/app-harness';

const LINE_SECRET = 'line-channel-secret-for-tests';

/**
 * The server's request listener takes webhook POSTs to their route without express
 * (src/request-listener.ts); everything else, and every spelling of a path only express
 * matches, still reaches the express app. What the express app does for every request —
 * the HTTP duration metric, 503 while shutting down — happens on the direct path too.
 */
describe("the server's request listener", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ LINE_CHANNEL_SECRET: LINE_SECRET });
  });
  afterEach(async () => {
    await h.cleanup();
  });

  const post = (path: string, body = lineBody([lineText('coupon', `U${Math.random().toString(36).slice(2)}`)])) =>
    request(requestListener(h.app)).post(path).set('content-type', 'application/json').set('x-line-signature', signLine(body, LINE_SECRET)).send(body);

  it('is not the express app itself, and stores a webhook posted to the exact path (a query string aside)', async () => {
    expect(requestListener(h.app)).not.toBe(h.app);
    await post('/webhooks/line').expect(200, {});
    await post('/webhooks/line?from=line').expect(200, {});
    expect((await h.store.status(Date.now())).operations.pending).toBe(2);
  });

  it('leaves other spellings, methods and paths to express', async () => {
    await post('/webhooks/line/').expect(200, {}); // express's matching (trailing slash) still serves it
    expect((await h.store.status(Date.now())).operations.pending).toBe(1);
    await request(requestListener(h.app)).get('/webhooks/line').expect(405);
    await request(requestListener(h.app)).get('/healthz').expect(200, { status: 'ok' });
    await post('/webhooks/line/not-declared').expect(404);
  });

  it('answers 503 and closes the connection while the service shuts down, storing nothing', async () => {
    h.app.locals.draining = true;
    const res = await post('/webhooks/line');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ error: 'shutting down; try again' });
    expect(res.headers.connection).toBe('close');
    expect((await h.store.status(Date.now())).operations.pending).toBe(0);
  });

  it('records the HTTP duration of a webhook under its route and status', async () => {
    await post('/webhooks/line').expect(200);
    await request(requestListener(h.app)).post('/webhooks/line').set('x-line-signature', 'bad').send('{}').expect(401);
    const metrics = await request(requestListener(h.app)).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/autotag_http_request_duration_seconds_count\{method="POST",route="\/webhooks\/line",status="200"\} 1/);
    expect(metrics.text).toMatch(/autotag_http_request_duration_seconds_count\{method="POST",route="\/webhooks\/line",status="401"\} 1/);
  });

  it('tells the tag worker how long each webhook answer took (it grows only while they are quick)', async () => {
    class Recording extends AckPressure {
      readonly answers: number[] = [];
      override record(ms: number): void {
        this.answers.push(ms);
        super.record(ms);
      }
    }
    const pressure = new Recording();
    const withPressure = await startHarness({ LINE_CHANNEL_SECRET: LINE_SECRET }, undefined, undefined, { ackPressure: pressure });
    try {
      const body = lineBody([lineText('coupon', 'Upressure')]);
      await request(requestListener(withPressure.app)).post('/webhooks/line').set('content-type', 'application/json').set('x-line-signature', signLine(body, LINE_SECRET)).send(body).expect(200);
      await request(requestListener(withPressure.app)).post('/webhooks/line').set('x-line-signature', 'bad').send('{}').expect(401);
      await request(requestListener(withPressure.app)).get('/healthz').expect(200);
      expect(pressure.answers).toHaveLength(2);
      for (const ms of pressure.answers) expect(ms).toBeGreaterThan(0);
      // Two answers are no flood.
      expect(pressure.slow).toBe(false);
    } finally {
      await withPressure.cleanup();
    }
  });
});
