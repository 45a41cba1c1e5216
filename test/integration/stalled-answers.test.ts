import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { CallLease } from '../../src/delivery/call-lease';
import { sendForward } from '../../src/delivery/forward';
import { silentLogger } from '../../src/log';
import { TagApiError } from '../../src/providers/errors';
import { createHttpClient } from '../../src/providers/http';
import { createMantagoClient } from '../../src/providers/mantago';
import { createMantagoCredentials } from '../../src/providers/mantago-credentials';
import { createMantagoTagger } from '../../src/providers/taggers';
import { createMemorySettingsStore } from '../helpers/fake-tag-api';
import { signLine } from '../helpers/signatures';
import { COUPON_RULES, lineBody, lineText, startHarness, type Harness } from '../helpers/app-harness';
import { startDelivery, type RunningDelivery } from '../helpers/delivery-harness';

/**
 * An answer whose status and headers arrive but whose body never ends (a proxy that hangs, a
 * server that dies mid-answer). The status has been answered: a 400 is a dead letter at once
 * (CONTRACT.md "Retries": other 4xx are not retried), not a timeout retried for a day; a success
 * whose body never ends is a failed call, tried again (its body could still have said
 * `"success": false`).
 */
/** The calls' timeouts: the first request of a process, on a busy machine, can take a few hundred ms to its headers. */
const STALL_MS = 1000;

class StallingAnswers {
  status = 400;
  readonly requests: string[] = [];
  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<StallingAnswers> {
    let self: StallingAnswers | undefined;
    const server = http.createServer((req, res) => {
      self!.requests.push(`${req.method} ${req.url}`);
      req.resume();
      res.writeHead(self!.status, { 'content-type': 'application/json' });
      // The start of a body, and then nothing more: the connection stays open.
      res.write('{"success":false');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (self = new StallingAnswers(server));
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe('an answer whose body never ends', () => {
  let upstream: StallingAnswers;
  beforeEach(async () => {
    upstream = await StallingAnswers.start();
  });
  afterEach(async () => {
    await upstream.close();
  });

  describe('to a tag API call', () => {
    const client = () => createHttpClient({ provider: 'mantago', baseUrl: upstream.url, timeoutMs: STALL_MS, secrets: () => [] });

    it('a 400 is returned as the 400 it is, saying its body stopped, with the start it read', async () => {
      const c = client();
      try {
        const answer = await c.send({ method: 'POST', path: '/tag', bearer: 't', body: {} });
        expect(answer).toMatchObject({ status: 400, text: '{"success":false', json: undefined, truncated: true, stopped: `no more of it within ${STALL_MS} ms` });
      } finally {
        await c.close();
      }
    });

    it('a 200 is a timeout, retried (its body could still have said the call failed)', async () => {
      upstream.status = 200;
      const c = client();
      try {
        const err = await c.send({ method: 'POST', path: '/tag', bearer: 't', body: {} }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(TagApiError);
        expect(err).toMatchObject({ retryable: true, reason: `timeout from mantago after ${STALL_MS} ms (POST /tag)` });
      } finally {
        await c.close();
      }
    });

    it('a 400 cut off by an abort from outside the call (the lease lost) is that abort, whatever the status', async () => {
      const c = createHttpClient({ provider: 'mantago', baseUrl: upstream.url, timeoutMs: 5000, secrets: () => [] });
      const lost = new AbortController();
      try {
        setTimeout(() => lost.abort(new Error('the database session was lost')), 200);
        const err = await c.send({ method: 'POST', path: '/tag', bearer: 't', body: {}, signal: lost.signal }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toMatchObject({ retryable: true, reason: 'mantago call abandoned (POST /tag): the database session was lost' });
      } finally {
        await c.close();
      }
    });
  });

  describe('to a MantaGo call under a lease', () => {
    it('a 401 whose body runs into the lease\'s call deadline is retried later, without a token refresh after the deadline', async () => {
      upstream.status = 401;
      const client = createMantagoClient({ baseUrl: upstream.url, botId: 'bot-1', timeoutMs: 2000 });
      const credentials = createMantagoCredentials({ envToken: 'token-1', envSecret: 'secret-1', store: createMemorySettingsStore(), client, log: silentLogger() });
      const lease = new CallLease(new AbortController().signal, STALL_MS);
      lease.hold(1);
      try {
        const err = await createMantagoTagger(client, credentials)
          .apply({ action: 'add', provider: 'mantago', kind: 'personal', tagId: 't', platform: 'line', recipient: 'Ubot', userId: 'U1' }, lease.signal)
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect(err).toBeInstanceOf(TagApiError);
        expect(err).toMatchObject({ status: 401, retryable: true });
        expect((err as TagApiError).reason).toMatch(/^401 from mantago: .*\(its body stopped before its end: no more of it before the call deadline of its lease passed \(1000 ms after the claim\); only the start was read\) — the call deadline passed before a token refresh could start: the next attempt refreshes$/);
        // The tag call only: no refresh (POST /openapi/token) after the deadline.
        expect(upstream.requests).toEqual(['POST /openapi/personalTagMapping?botId=bot-1']);
      } finally {
        lease.done();
        await client.close();
      }
    });
  });

  describe('to a forward', () => {
    it('a 400 is not retried, and the reason says its body stopped', async () => {
      const result = await sendForward(`${upstream.url}/hook`, Buffer.from('{}'), { 'content-type': 'application/json' }, { timeoutMs: STALL_MS });
      expect(result).toMatchObject({
        ok: false,
        status: 400,
        retryable: false,
        reason: `400 from ${new URL(upstream.url).host} (its body stopped before its end: no more of it within ${STALL_MS} ms (FORWARD_TIMEOUT_MS); only the start was read)`,
        bodyExcerpt: '{"success":false',
      });
    });
  });

  describe('through the service', () => {
    const SECRET = 'line-secret-stalled-answers';
    let h: Harness | undefined;
    let running: RunningDelivery | undefined;
    afterEach(async () => {
      await running?.stop();
      running = undefined;
      await h?.cleanup();
      h = undefined;
    });

    it('a MantaGo 400 whose body never ends is a dead letter at once, not a timeout retried until RETRY_GIVE_UP_MS', async () => {
      const env = {
        LINE_CHANNEL_SECRET: SECRET,
        MANTAGO_BASE_URL: upstream.url,
        MANTAGO_BOT_ID: 'bot-1',
        MANTAGO_TOKEN: 'token-stalled',
        MANTAGO_SECRET: 'secret-stalled',
        TAG_API_TIMEOUT_MS: '500',
        RETRY_MIN_MS: '100',
        RETRY_MAX_MS: '200',
      };
      h = await startHarness(env, { 'rules.yaml': COUPON_RULES });
      running = await startDelivery(h, env);
      const body = lineBody([lineText('我要優惠券', 'Ustalled')]);
      await request(h.app).post('/webhooks/line').set('content-type', 'application/json').set('x-line-signature', signLine(body, SECRET)).send(body).expect(200);
      const [outcome] = await running.waitForOutcomes(1, (o) => o.outcome === 'dead' || o.outcome === 'retry');
      expect(outcome).toMatchObject({ outcome: 'dead', status: 400 });
      expect(upstream.requests).toHaveLength(1);
      const [dead] = await h.store.listDeadLetters();
      expect(dead).toMatchObject({ type: 'operation', status: 400, bodyExcerpt: '{"success":false' });
      expect(dead!.reason).toMatch(/^400 from mantago: bad request \(its body stopped before its end: no more of it (within 500 ms|before the call deadline of its lease passed \(500 ms after the claim\)); only the start was read\)$/);
    });
  });
});
