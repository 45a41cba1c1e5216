import { jwtExpiresAt } from '../../../src/providers/jwt-exp';
import { jwtExpiringIn, startFakeMantago, startFakeTagApi, type FakeTagApi } from '../../helpers/fake-tag-api';

/** The fakes are used by worker, integration and multi-instance tests: they must be right too. */
describe('fake tag API server', () => {
  let api: FakeTagApi;
  afterEach(() => api.close());

  const post = (body: unknown, path = '/x?a=1') =>
    fetch(`${api.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer t' }, body: JSON.stringify(body) });

  it('answers 200 {"success":true} by default and records method, path, query, headers, body and time', async () => {
    api = await startFakeTagApi();
    const before = Date.now();
    const res = await post({ k: 'v' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ success: true });
    const [r] = await api.waitFor(1);
    expect(r).toMatchObject({ seq: 1, method: 'POST', path: '/x', query: { a: '1' }, body: { k: 'v' }, rawBody: '{"k":"v"}', status: 200 });
    expect(r!.headers.authorization).toBe('Bearer t');
    expect(r!.receivedAt).toBeGreaterThanOrEqual(before);
    expect(r!.finishedAt).toBeGreaterThanOrEqual(r!.receivedAt);
  });

  it('scripted answers are used in order, and enqueueFor only for matching requests', async () => {
    api = await startFakeTagApi();
    api.enqueueFor((r) => r.path === '/special', { status: 418, body: 'teapot' });
    api.enqueue({ status: 500 }, { status: 503, headers: { 'retry-after': '9' } });
    expect((await post({})).status).toBe(500);
    expect((await post({}, '/special')).status).toBe(418);
    const third = await post({});
    expect(third.status).toBe(503);
    expect(third.headers.get('retry-after')).toBe('9');
    expect((await post({})).status).toBe(200);
  });

  it('waitFor(predicate) resolves on arrival, while the request is still in flight', async () => {
    api = await startFakeTagApi();
    api.enqueue({ delayMs: 400 });
    const pending = post({ slow: true });
    const seen = await api.waitFor((rs) => rs.length === 1, 2000);
    expect(seen[0]!.finishedAt).toBeUndefined();
    expect(api.inFlightCount).toBe(1);
    await pending;
    await api.waitFor(1);
    expect(api.inFlightCount).toBe(0);
  });

  it('waitFor rejects after its timeout and says what it saw', async () => {
    api = await startFakeTagApi();
    await post({});
    await expect(api.waitFor(2, 100)).rejects.toThrow('condition not met within 100 ms; 1 request(s): POST /x → 200');
  });

  it('detects two requests for one key in flight at once, and only then', async () => {
    api = await startFakeTagApi({ keyOf: (r) => (r.body as { key?: string } | undefined)?.key, latencyMs: 100 });
    await Promise.all([post({ key: 'a' }), post({ key: 'b' })]);
    await post({ key: 'a' });
    expect(api.overlaps).toEqual([]);
    await Promise.all([post({ key: 'a' }), post({ key: 'a' })]);
    expect(api.overlaps).toHaveLength(1);
    expect(api.overlaps[0]).toMatchObject({ key: 'a', seqs: [4, 5] });
    expect(api.maxInFlight).toBe(2);
  });

  it('a token-bucket rate limit answers 429 with Retry-After once its burst is spent', async () => {
    // A bucket of 5 that refills one token in 20 s: the 8 requests may take as long as a loaded machine makes them.
    api = await startFakeTagApi({ rateLimit: { perSecond: 0.05, burst: 5 } });
    const answers = await Promise.all(Array.from({ length: 8 }, () => post({})));
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
    const limited = answers.find((r) => r.status === 429)!;
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(api.requests.filter((r) => r.rateLimited)).toHaveLength(3);
  });

  it('fixed latency delays every answer', async () => {
    api = await startFakeTagApi({ latencyMs: 150 });
    const t = Date.now();
    await post({});
    expect(Date.now() - t).toBeGreaterThanOrEqual(140);
  });

  it('a scripted drop closes the connection without an answer', async () => {
    api = await startFakeTagApi();
    api.enqueue({ drop: true });
    await expect(post({})).rejects.toThrow();
    const [r] = await api.waitFor(1);
    expect(r!.dropped).toBe(true);
    expect(r!.status).toBeUndefined();
  });
});

describe('fake MantaGo flavour', () => {
  it('rotates the pair at /openapi/token: the new JWT has a later exp and the old pair gets 401', async () => {
    const fake = await startFakeMantago({ botId: 'b', token: jwtExpiringIn(-1000), secret: 's0', tokenTtlMs: 3600_000 });
    try {
      const call = (path: string, token: string, body: object) =>
        fetch(`${fake.baseUrl}${path}?botId=b`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const old = fake.token;
      const mapping = { tagId: 't', platform: 'line', platformClientId: 'U' };
      expect((await call('/openapi/personalTagMapping', old, { secret: 's0', ...mapping })).status).toBe(401); // expired
      const res = await call('/openapi/token', old, { secret: 's0' });
      const fresh = (await res.json()) as { apiToken: string; apiSecret: string };
      expect(jwtExpiresAt(fresh.apiToken)).toBeGreaterThan(Date.now() + 3500_000);
      expect((await call('/openapi/token', old, { secret: 's0' })).status).toBe(401);
      expect((await call('/openapi/personalTagMapping', fresh.apiToken, { secret: fresh.apiSecret, ...mapping })).status).toBe(200);
      expect((await call('/openapi/personalTagMapping', fresh.apiToken, { secret: 's0', ...mapping })).status).toBe(401);
      expect(fake.issued).toEqual([{ token: fresh.apiToken, secret: fresh.apiSecret }]);
    } finally {
      await fake.close();
    }
  });
});
