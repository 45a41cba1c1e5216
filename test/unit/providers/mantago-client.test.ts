import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { CallDeadlineError } from '../../../src/call-deadline';
import { createMantagoClient, type MantagoClient, type MantagoCreds } from '../../../src/providers/mantago';
import { jwtExpiringIn, mantagoError, startFakeMantago, type FakeMantago } from '../../helpers/fake-tag-api';
import { allTextOf, tagApiErrorOf } from './expect-error';

describe('MantaGo client against a fake MantaGo', () => {
  let fake: FakeMantago;
  let client: MantagoClient;
  let creds: MantagoCreds;
  const req = { tagId: 'tag-123', platform: 'line' as const, platformClientId: 'U4af4980629' };

  beforeAll(async () => {
    fake = await startFakeMantago({ botId: 'bot-42' });
    client = createMantagoClient({ baseUrl: fake.baseUrl, botId: 'bot-42', timeoutMs: 1500 });
  });
  beforeEach(() => {
    fake.api.reset();
    creds = { token: fake.token, secret: fake.secret };
  });
  afterAll(async () => {
    await client.close();
    await fake.close();
  });

  describe('request shapes (CONTRACT.md "Tag operations on the wire")', () => {
    it.each([
      ['addPersonalTag', '/api/openapi/personalTagMapping'],
      ['removePersonalTag', '/api/openapi/personalTagMapping/delete'],
      ['addClientTag', '/api/openapi/clientTagMapping'],
    ] as const)('%s posts to %s with botId, bearer token and the secret in the body', async (method, path) => {
      await client[method](creds, req);
      const [seen] = await fake.api.waitFor(1);
      expect(seen).toMatchObject({ method: 'POST', path, query: { botId: 'bot-42' } });
      expect(seen!.headers['content-type']).toBe('application/json');
      expect(seen!.headers.authorization).toBe(`Bearer ${creds.token}`);
      expect(Object.keys(seen!.body as object)).toEqual(['secret', 'tagId', 'platform', 'platformClientId']);
      expect(seen!.body).toEqual({ secret: creds.secret, tagId: 'tag-123', platform: 'line', platformClientId: 'U4af4980629' });
    });

    it('changes the state MantaGo keeps: add, then remove', async () => {
      await client.addPersonalTag(creds, { ...req, platform: 'instagram' });
      expect(fake.personalTagsOf('instagram', req.platformClientId)).toEqual(['tag-123']);
      await client.removePersonalTag(creds, { ...req, platform: 'instagram' });
      expect(fake.personalTagsOf('instagram', req.platformClientId)).toEqual([]);
      await client.addClientTag(creds, { ...req, platform: 'facebook' });
      expect(fake.clientTagsOf('facebook', req.platformClientId)).toEqual(['tag-123']);
    });
  });

  describe('answers', () => {
    it('a 2xx whose body says success:false is a failure that is not retried', async () => {
      fake.api.enqueue({ status: 200, body: mantagoError(1001, 'tag not found') });
      const err = await tagApiErrorOf(client.addPersonalTag(creds, req));
      expect(err).toMatchObject({ provider: 'mantago', status: 200, code: '1001', retryable: false, notFound: false });
      expect(err.reason).toContain('tag not found');
    });

    it('400 is not retried and the reason names status, provider, code and message', async () => {
      fake.api.enqueue({ status: 400, body: mantagoError(1001, 'tag not found') });
      const err = await tagApiErrorOf(client.addPersonalTag(creds, req));
      expect(err).toMatchObject({ status: 400, code: '1001', retryable: false });
      expect(err.reason).toBe('400 from mantago (code 1001): tag not found');
      expect(err.bodyExcerpt).toContain('tag not found');
    });

    it('401 from a wrong token is reported with its status and not retried by the client', async () => {
      const err = await tagApiErrorOf(client.addPersonalTag({ token: 'not-the-token', secret: creds.secret }, req));
      expect(err).toMatchObject({ status: 401, retryable: false });
      expect(fake.api.requests).toHaveLength(1);
    });

    it('403 is not retried', async () => {
      fake.api.enqueue({ status: 403, body: mantagoError(403, 'Permission denied') });
      expect(await tagApiErrorOf(client.addClientTag(creds, req))).toMatchObject({ status: 403, retryable: false, notFound: false });
    });

    it('404 (client not known yet) is retryable and flagged notFound', async () => {
      fake.unknownClients.add('U-new');
      const err = await tagApiErrorOf(client.addPersonalTag(creds, { ...req, platformClientId: 'U-new' }));
      expect(err).toMatchObject({ status: 404, retryable: true, notFound: true });
      expect(err.reason).toContain('client not found');
    });

    it('429 with Retry-After in seconds', async () => {
      fake.api.enqueue({ status: 429, headers: { 'retry-after': '7' }, body: mantagoError(429, 'Rate limit exceeded') });
      expect(await tagApiErrorOf(client.addPersonalTag(creds, req))).toMatchObject({ status: 429, retryable: true, retryAfterMs: 7000 });
    });

    it('429 with Retry-After as an HTTP date', async () => {
      const at = new Date(Date.now() + 30_000);
      fake.api.enqueue({ status: 429, headers: { 'retry-after': at.toUTCString() } });
      const err = await tagApiErrorOf(client.addPersonalTag(creds, req));
      expect(err.retryable).toBe(true);
      // HTTP dates have whole seconds: between 28 and 30 seconds from now.
      expect(err.retryAfterMs).toBeGreaterThan(28_000);
      expect(err.retryAfterMs).toBeLessThanOrEqual(30_000);
    });

    it.each([500, 502, 503])('%i is retryable', async (status) => {
      fake.api.enqueue({ status, body: 'upstream trouble', headers: { 'content-type': 'text/plain' } });
      const err = await tagApiErrorOf(client.removePersonalTag(creds, req));
      expect(err).toMatchObject({ status, retryable: true, notFound: false });
      expect(err.bodyExcerpt).toBe('upstream trouble');
    });

    it('503 keeps its Retry-After', async () => {
      fake.api.enqueue({ status: 503, headers: { 'retry-after': '120' } });
      expect(await tagApiErrorOf(client.addPersonalTag(creds, req))).toMatchObject({ retryable: true, retryAfterMs: 120_000 });
    });

    it('a dropped connection is a retryable network error without a status', async () => {
      fake.api.enqueue({ drop: true });
      const err = await tagApiErrorOf(client.addPersonalTag(creds, req));
      expect(err.status).toBeUndefined();
      expect(err.retryable).toBe(true);
      expect(err.reason).toMatch(/^network error from mantago/);
    });

    it('a call that outlives the timeout is abandoned and retryable', async () => {
      const quick = createMantagoClient({ baseUrl: fake.baseUrl, botId: 'bot-42', timeoutMs: 200 });
      fake.api.enqueue({ delayMs: 3000 });
      const started = Date.now();
      const err = await tagApiErrorOf(quick.addPersonalTag(creds, req));
      expect(Date.now() - started).toBeLessThan(1500);
      expect(err).toMatchObject({ retryable: true, status: undefined });
      expect(err.reason).toBe('timeout from mantago after 200 ms (POST /openapi/personalTagMapping)');
      await quick.close();
    });

    it("a call under way ended by its lease's call deadline is a timeout; one whose deadline passed before it started is not made", async () => {
      fake.api.enqueue({ delayMs: 3000 });
      // The client's own timeout well away: only the lease's signal can end the call.
      const patient = createMantagoClient({ baseUrl: fake.baseUrl, botId: 'bot-42', timeoutMs: 20_000 });
      const lease = new AbortController();
      const call = tagApiErrorOf(patient.addPersonalTag(creds, req, lease.signal));
      await fake.api.waitFor((requests) => requests.length === 1);
      lease.abort(new CallDeadlineError(3000));
      const err = await call;
      expect(err).toMatchObject({ retryable: true, status: undefined });
      expect(err.reason).toBe('timeout from mantago (POST /openapi/personalTagMapping): no answer before the call deadline of its lease passed (3000 ms after the claim)');
      const none = await tagApiErrorOf(patient.addPersonalTag(creds, req, lease.signal));
      expect(none.reason).toBe('mantago call abandoned (POST /openapi/personalTagMapping): the call deadline of its lease passed (3000 ms after the claim)');
      expect(fake.api.requests).toHaveLength(1);
      await patient.close();
    });

    it("a call aborted by the worker's signal ends at once, retryable, saying why", async () => {
      fake.api.enqueue({ delayMs: 3000 });
      const worker = new AbortController();
      const call = tagApiErrorOf(client.addPersonalTag(creds, req, worker.signal));
      // This test's own call has arrived (a call an earlier test abandoned may still be closing).
      await fake.api.waitFor((requests) => requests.length === 1);
      worker.abort(new Error('the database session was lost'));
      const err = await call;
      expect(err).toMatchObject({ retryable: true, status: undefined });
      expect(err.reason).toBe('mantago call abandoned (POST /openapi/personalTagMapping): the database session was lost');
      // The fake saw the client go away before its answer.
      const [seen] = await fake.api.waitFor(1);
      expect(seen?.abandoned).toBe(true);
      // An aborted signal starts no call at all.
      const none = await tagApiErrorOf(client.addPersonalTag(creds, req, worker.signal));
      expect(none.reason).toMatch(/^mantago call abandoned/);
      expect(fake.api.requests).toHaveLength(1);
    });

    it('a timeout also covers a body that never finishes after the headers', async () => {
      // A server that sends the headers and half a body, then nothing.
      const slow = http.createServer((_q, s) => {
        s.writeHead(200, { 'content-type': 'application/json' });
        s.write('{"success":');
      });
      await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
      const { port } = slow.address() as AddressInfo;
      const c = createMantagoClient({ baseUrl: `http://127.0.0.1:${port}/api`, botId: 'bot-42', timeoutMs: 300 });
      try {
        const err = await tagApiErrorOf(c.addPersonalTag(creds, req));
        expect(err.retryable).toBe(true);
        expect(err.reason).toMatch(/^timeout from mantago after 300 ms/);
      } finally {
        await c.close();
        slow.closeAllConnections();
        await new Promise<void>((r) => slow.close(() => r()));
      }
    });
  });

  describe('connections', () => {
    it('reuses keep-alive connections for sequential calls', async () => {
      const c = createMantagoClient({ baseUrl: fake.baseUrl, botId: 'bot-42', timeoutMs: 1500 });
      const before = fake.api.connectionCount;
      for (let i = 0; i < 10; i++) await c.addPersonalTag(creds, { ...req, tagId: `tag-${i}` });
      // undici's pool may open a second socket while the first is being released; never one per call.
      expect(fake.api.connectionCount - before).toBeLessThanOrEqual(2);
      await c.close();
    });

    it('uses an injected dispatcher and leaves it open on close (the caller owns it)', async () => {
      const agent = new Agent();
      let dispatched = 0;
      const counting = agent.compose((dispatch) => (o, h) => {
        dispatched += 1;
        return dispatch(o, h);
      });
      const c = createMantagoClient({ baseUrl: fake.baseUrl, botId: 'bot-42', timeoutMs: 1500, dispatcher: counting });
      await c.addPersonalTag(creds, req);
      await c.close();
      expect(dispatched).toBe(1);
      const again = await request(`${fake.url}/health`, { dispatcher: agent });
      await again.body.dump();
      expect(agent.closed).toBe(false);
      await agent.close();
    });
  });

  describe('secrets', () => {
    it('never appear in errors, even when the answer echoes them', async () => {
      const echo = { success: false, errResponse: { message: `bad secret ${creds.secret} for token ${creds.token}`, code: 1 }, secret: creds.secret };
      for (const status of [200, 400, 401, 500]) {
        fake.api.enqueue({ status, body: echo });
        const err = await tagApiErrorOf(client.addPersonalTag(creds, req));
        const text = allTextOf(err);
        expect(text).not.toContain(creds.secret);
        expect(text).not.toContain(creds.token);
        expect(err.reason).toContain('[redacted]');
      }
    });
  });

  describe('token refresh', () => {
    it('POSTs /openapi/token with the current token as Bearer and {secret}; the old pair stops working', async () => {
      const fresh = await client.refreshToken(creds);
      const [seen] = fake.tokenRequests;
      expect(seen).toMatchObject({ method: 'POST', path: '/api/openapi/token', query: { botId: 'bot-42' } });
      expect(seen!.headers.authorization).toBe(`Bearer ${creds.token}`);
      expect(seen!.headers['content-type']).toBe('application/json');
      expect(seen!.body).toEqual({ secret: creds.secret });
      expect(fresh).toEqual({ token: fake.token, secret: fake.secret });
      expect(fresh.token).not.toBe(creds.token);

      expect(await tagApiErrorOf(client.addPersonalTag(creds, req))).toMatchObject({ status: 401 });
      await client.addPersonalTag(fresh, req);
    });

    it('works with an expired token', async () => {
      const expired = jwtExpiringIn(-3600_000);
      fake.setPair(expired, 'old-secret-value');
      const stale = { token: expired, secret: 'old-secret-value' };
      expect(await tagApiErrorOf(client.addPersonalTag(stale, req))).toMatchObject({ status: 401 });
      const fresh = await client.refreshToken(stale);
      await client.addPersonalTag(fresh, req);
    });

    it('a 401 on the refresh itself is reported with its status', async () => {
      const err = await tagApiErrorOf(client.refreshToken({ token: 'revoked', secret: 'nope' }));
      expect(err).toMatchObject({ status: 401, retryable: false });
    });

    it('an answer without apiToken/apiSecret is a failure, and the new pair never shows in it', async () => {
      fake.api.enqueue({ status: 200, body: { success: true, message: 'ok', apiToken: 'eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.c2ln' } });
      const err = await tagApiErrorOf(client.refreshToken(creds));
      expect(err).toMatchObject({ retryable: false, status: 200 });
      expect(err.reason).toContain('without apiToken/apiSecret');
      expect(allTextOf(err)).not.toContain('eyJleHAiOjF9');
    });
  });
});
