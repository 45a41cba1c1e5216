import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../../src/log';
import { createMantagoClient, type MantagoClient } from '../../../src/providers/mantago';
import {
  createMantagoCredentials,
  mantagoEnvFingerprintSetting,
  mantagoPairSetting,
  type MantagoCredentialsOptions,
} from '../../../src/providers/mantago-credentials';
import { mantagoProvider, REFRESH_SHUTDOWN_WAIT_MS } from '../../../src/providers/mantago-provider';
import { createMantagoTagger } from '../../../src/providers/taggers';
import type { TagCall } from '../../../src/tag-operation';
import {
  createMemorySettingsStore,
  jwtExpiringIn,
  makeJwt,
  mantagoError,
  startFakeMantago,
  type FakeMantago,
  type MemorySettingsStore,
  type RecordedRequest,
} from '../../helpers/fake-tag-api';
import { tagApiErrorOf } from './expect-error';

const DAY = 24 * 3600_000;
const op: TagCall = { action: 'add', provider: 'mantago', kind: 'personal', tagId: 'tag-1', platform: 'line', recipient: 'Udest', userId: 'U-user' };
const isMapping = (r: RecordedRequest) => r.path.includes('TagMapping');

function captureLog(): { log: Logger; lines: () => string[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { log: createLogger({ level: 'debug', stream }), lines: () => chunks.join('').split('\n').filter(Boolean) };
}

describe('MantaGo token pair: refresh on 401, before expiry, kept in the store', () => {
  let fake: FakeMantago;
  let client: MantagoClient;
  let store: MemorySettingsStore;
  let logs: ReturnType<typeof captureLog>;
  /** Every pair that was ever in force, for the "no secret in logs" check. */
  const seenSecrets = new Set<string>();

  const credentials = (over: Partial<MantagoCredentialsOptions> = {}) =>
    createMantagoCredentials({ envToken: fake.token, envSecret: fake.secret, store, client, log: logs.log, ...over });

  beforeEach(async () => {
    fake = await startFakeMantago({ botId: 'bot-1' });
    client = createMantagoClient({ baseUrl: fake.baseUrl, botId: 'bot-1', timeoutMs: 2000 });
    store = createMemorySettingsStore();
    logs = captureLog();
  });
  afterEach(async () => {
    for (const p of [{ token: fake.token, secret: fake.secret }, ...fake.issued]) {
      seenSecrets.add(p.token);
      seenSecrets.add(p.secret);
    }
    const text = logs.lines().join('\n');
    for (const s of seenSecrets) expect(text).not.toContain(s);
    await client.close();
    await fake.close();
  });

  it('first start: the environment pair is used and stored, with a fingerprint that is not the secret', async () => {
    const creds = credentials();
    await creds.init();
    expect(await creds.current()).toEqual({ token: fake.token, secret: fake.secret });
    const fingerprint = store.settings.get(mantagoEnvFingerprintSetting('mantago'))!;
    expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(fingerprint).not.toContain(fake.secret);
    expect(JSON.parse(store.settings.get(mantagoPairSetting('mantago'))!)).toMatchObject({ token: fake.token, secret: fake.secret });
  });

  it('a 401 gets one refresh and one retry, which succeeds with the new token and secret', async () => {
    const envToken = fake.token;
    fake.api.enqueueFor(isMapping, { status: 401, body: mantagoError(401, 'JWT token is invalid or expired') });
    await createMantagoTagger(client, credentials()).apply(op);

    expect(fake.requests.map((r) => r.path)).toEqual(['/api/openapi/personalTagMapping', '/api/openapi/token', '/api/openapi/personalTagMapping']);
    expect(fake.tokenRequests[0]!.headers.authorization).toBe(`Bearer ${envToken}`);
    const retry = fake.tagRequests[1]!;
    expect(retry.headers.authorization).toBe(`Bearer ${fake.token}`);
    expect((retry.body as { secret: string }).secret).toBe(fake.secret);
    expect(fake.personalTagsOf('line', 'U-user')).toEqual(['tag-1']);
  });

  it('a second 401 after the refresh is a failure that is not retried', async () => {
    fake.api.enqueueFor(isMapping, { status: 401 }, { status: 401 });
    const err = await tagApiErrorOf(createMantagoTagger(client, credentials()).apply(op));
    expect(err).toMatchObject({ status: 401, retryable: false });
    expect(err.reason).toMatch(/^401 from mantago after a token refresh: the refresh did not cure it/);
    expect(fake.tokenRequests).toHaveLength(1);
    expect(fake.tagRequests).toHaveLength(2);
  });

  it('a 401 on the refresh itself is not retried, and tells the operator what to do (in the reason and the log)', async () => {
    // The pair in the environment is not the one MantaGo holds (e.g. refreshed from the console).
    const creds = credentials({ envToken: jwtExpiringIn(10 * DAY), envSecret: 'stale-secret' });
    const err = await tagApiErrorOf(createMantagoTagger(client, creds).apply(op));
    expect(err).toMatchObject({ status: 401, retryable: false });
    expect(err.reason).toBe('MantaGo token refresh failed (401): set a fresh MANTAGO_TOKEN and MANTAGO_SECRET from the MantaGo console');
    expect(fake.tagRequests).toHaveLength(1);
    expect(fake.tokenRequests).toHaveLength(1);
    const errors = logs.lines().map((l) => JSON.parse(l) as { level: string; message: string }).filter((l) => l.level === 'error');
    expect(errors.map((l) => l.message)).toContain(err.reason);
    expect(logs.lines().join('\n')).not.toContain('stale-secret');
  });

  it('a refresh that meets a 503 is retryable (the operation is tried, and refreshed, again later)', async () => {
    fake.api.enqueueFor(isMapping, { status: 401 });
    fake.api.enqueueFor((r) => r.path.endsWith('/openapi/token'), { status: 503 });
    const err = await tagApiErrorOf(createMantagoTagger(client, credentials()).apply(op));
    expect(err).toMatchObject({ retryable: true, status: 503 });
    expect(err.reason).toMatch(/^MantaGo token refresh failed \(503\), will try again/);
  });

  it('refreshes before the call when less than 24 hours of the JWT remain', async () => {
    const short = jwtExpiringIn(23 * 3600_000);
    fake.setPair(short, 'short-lived-secret');
    seenSecrets.add(short).add('short-lived-secret');
    await createMantagoTagger(client, credentials()).apply(op);
    expect(fake.requests.map((r) => r.path)).toEqual(['/api/openapi/token', '/api/openapi/personalTagMapping']);
    expect(fake.tagRequests[0]!.headers.authorization).toBe(`Bearer ${fake.token}`);
    expect(fake.token).not.toBe(short);
  });

  /**
   * A tagger whose first call refreshes the pair (less than 24 h left) from a MantaGo that
   * issues the new pair at once and answers `answerMs` later; resolves once the refresh is under way.
   */
  const refreshUnderWay = async (answerMs: number, timeoutMs: number) => {
    await fake.close();
    fake = await startFakeMantago({ botId: 'bot-1', latencyMs: answerMs });
    const short = jwtExpiringIn(23 * 3600_000);
    fake.setPair(short, 'short-lived-secret');
    seenSecrets.add(short).add('short-lived-secret');
    const settings = { baseUrl: fake.baseUrl, botId: 'bot-1', token: short, secret: 'short-lived-secret', pairSource: 'MANTAGO_TOKEN and MANTAGO_SECRET' };
    const built = await mantagoProvider.createTagger(settings, { account: 'mantago', timeoutMs, settings: store, log: logs.log });
    const applying = built.tagger.apply(op).catch((e: unknown) => e);
    await fake.api.waitFor((rs) => rs.some((r) => r.path.endsWith('/openapi/token')));
    return { built, applying };
  };

  it('a shutdown waits for a refresh under way: the pair MantaGo issued is kept, not lost with the connection', async () => {
    const { built, applying } = await refreshUnderWay(400, 2000);
    const started = Date.now();
    await built.close();
    expect(Date.now() - started).toBeLessThan(REFRESH_SHUTDOWN_WAIT_MS);
    await applying;
    expect(fake.issued).toHaveLength(1);
    expect(JSON.parse(store.settings.get(mantagoPairSetting('mantago'))!)).toMatchObject({ token: fake.token, secret: fake.secret, source: 'refresh' });
  });

  it('a shutdown with less time left gives a refresh under way only that, then says the pair may have changed', async () => {
    // MantaGo answers the refresh only after 2 s; the shutdown has 150 ms left for it.
    const { built, applying } = await refreshUnderWay(2000, 5000);
    const started = Date.now();
    await built.close({ refreshWaitMs: 150 });
    expect(Date.now() - started).toBeLessThan(1500);
    await applying;
    const warned = logs.lines().map((l) => JSON.parse(l) as { level: string; message: string; waitedMs?: number }).filter((l) => l.level === 'warn');
    // (Then the refresh cut off with the connection says it failed, as any cut-off call does.)
    expect(warned[0]).toMatchObject({ message: 'a MantaGo token refresh was still waiting for its answer when the shutdown could wait no longer; if MantaGo carried it out, set a fresh MANTAGO_TOKEN and MANTAGO_SECRET', waitedMs: 150 });
  });

  it('calls made while a refresh before expiry is in flight wait for the new pair instead of meeting 401s with the old one', async () => {
    await fake.close();
    // The old pair stops working when MantaGo issues the new one; its answer comes 200 ms later.
    fake = await startFakeMantago({ botId: 'bot-1', latencyMs: 200 });
    client = createMantagoClient({ baseUrl: fake.baseUrl, botId: 'bot-1', timeoutMs: 2000 });
    const short = jwtExpiringIn(23 * 3600_000);
    fake.setPair(short, 'short-lived-secret');
    seenSecrets.add(short).add('short-lived-secret');
    const tagger = createMantagoTagger(client, credentials());
    await Promise.all([1, 2, 3, 4, 5].map((n) => tagger.apply({ ...op, tagId: `tag-${n}` })));
    expect(fake.tokenRequests).toHaveLength(1);
    expect(fake.requests.filter((r) => r.status === 401).map((r) => r.path)).toEqual([]);
    expect(fake.tagRequests.map((r) => r.headers.authorization)).toEqual(Array(5).fill(`Bearer ${fake.token}`));
  });

  it('does not refresh while more than 24 hours remain', async () => {
    fake.setPair(jwtExpiringIn(25 * 3600_000), 'long-lived-secret');
    seenSecrets.add('long-lived-secret');
    await createMantagoTagger(client, credentials()).apply(op);
    expect(fake.tokenRequests).toHaveLength(0);
  });

  it('refreshes an already expired token before calling', async () => {
    fake.setPair(jwtExpiringIn(-DAY), 'expired-secret');
    seenSecrets.add('expired-secret');
    await createMantagoTagger(client, credentials()).apply(op);
    expect(fake.requests.map((r) => r.path)).toEqual(['/api/openapi/token', '/api/openapi/personalTagMapping']);
  });

  it('a failed proactive refresh still makes the call with the current pair, and is not retried before every call', async () => {
    fake.setPair(jwtExpiringIn(3600_000), 'hour-left-secret');
    seenSecrets.add('hour-left-secret');
    fake.api.enqueueFor((r) => r.path.endsWith('/openapi/token'), { status: 503 });
    const tagger = createMantagoTagger(client, credentials());
    await tagger.apply(op);
    await tagger.apply({ ...op, tagId: 'tag-2' });
    expect(fake.requests.map((r) => `${r.path} ${r.status}`)).toEqual([
      '/api/openapi/token 503',
      '/api/openapi/personalTagMapping 200',
      '/api/openapi/personalTagMapping 200',
    ]);
    expect(logs.lines().some((l) => l.includes('"level":"warn"') && l.includes('MantaGo token refresh failed'))).toBe(true);
  });

  it('tokens issued with less than 24 h to live are not refreshed before every call', async () => {
    await fake.close();
    fake = await startFakeMantago({ botId: 'bot-1', tokenTtlMs: 3600_000 });
    await client.close();
    client = createMantagoClient({ baseUrl: fake.baseUrl, botId: 'bot-1', timeoutMs: 2000 });
    const tagger = createMantagoTagger(client, credentials());
    for (const tagId of ['a', 'b', 'c']) await tagger.apply({ ...op, tagId });
    expect(fake.tokenRequests).toHaveLength(1);
    expect(fake.personalTagsOf('line', 'U-user')).toEqual(['a', 'b', 'c']);
  });

  it('a refresh answering a JWT whose exp is beyond any date is a success: the new pair is used at once, no call meets a 401', async () => {
    await fake.close();
    // exp ≈ 1e16 s: a number, but 1e19 ms is past the last date JavaScript holds (8.64e15 ms).
    fake = await startFakeMantago({ botId: 'bot-1', tokenTtlMs: 1e19 });
    await client.close();
    client = createMantagoClient({ baseUrl: fake.baseUrl, botId: 'bot-1', timeoutMs: 2000 });
    const short = jwtExpiringIn(23 * 3600_000);
    fake.setPair(short, 'short-lived-secret');
    seenSecrets.add(short).add('short-lived-secret');
    await createMantagoTagger(client, credentials()).apply(op);
    expect(fake.requests.map((r) => `${r.path} ${r.status}`)).toEqual(['/api/openapi/token 200', '/api/openapi/personalTagMapping 200']);
    expect(logs.lines().some((l) => l.includes('MantaGo token refresh failed'))).toBe(false);
    expect(logs.lines().some((l) => l.includes('MantaGo token refreshed'))).toBe(true);
  });

  it('a token whose exp is below any date is not refreshed before the call (nor does reading it throw): a 401 refreshes it', async () => {
    const odd = makeJwt({ exp: -1e13 });
    fake.setPair(odd, 'odd-secret');
    seenSecrets.add(odd).add('odd-secret');
    fake.api.enqueueFor((r) => r.path.endsWith('/openapi/token'), { status: 503 });
    const tagger = createMantagoTagger(client, credentials());
    // The fake refuses the token (its exp has passed). The first attempt meets that 401 and a
    // refresh that fails (503): retried later, as with any token.
    await expect(tagApiErrorOf(tagger.apply(op))).resolves.toMatchObject({ retryable: true, status: 503 });
    await tagger.apply(op);
    expect(fake.requests.map((r) => `${r.path} ${r.status}`)).toEqual([
      '/api/openapi/personalTagMapping 401',
      '/api/openapi/token 503',
      '/api/openapi/personalTagMapping 401',
      '/api/openapi/token 200',
      '/api/openapi/personalTagMapping 200',
    ]);
  });

  it('after a restart (a new credentials object on the same store) the refreshed pair is used', async () => {
    const env = { envToken: fake.token, envSecret: fake.secret };
    fake.api.enqueueFor(isMapping, { status: 401 });
    await createMantagoTagger(client, credentials(env)).apply(op);
    const refreshed = fake.token;
    expect(refreshed).not.toBe(env.envToken);

    fake.api.reset();
    const restarted = credentials(env);
    await restarted.init();
    await createMantagoTagger(client, restarted).apply({ ...op, tagId: 'tag-2' });
    expect(fake.tokenRequests).toHaveLength(0);
    expect(fake.tagRequests[0]!.headers.authorization).toBe(`Bearer ${refreshed}`);
  });

  it.each([
    ['MANTAGO_SECRET', { envSecret: 'new-secret-from-console' }],
    ['MANTAGO_TOKEN', { envToken: 'new-token-from-console' }],
  ])('when %s changed since the previous start, the environment pair takes over', async (_name, change) => {
    const first = credentials();
    await first.init();
    await first.refreshAfter401({ token: fake.token });
    const stored = JSON.parse(store.settings.get(mantagoPairSetting('mantago'))!) as { token: string };
    expect(stored.token).toBe(fake.token);

    const env = { envToken: fake.token, envSecret: fake.secret, ...change };
    const next = credentials({ envToken: stored.token, envSecret: fake.secret, ...change });
    await next.init();
    expect(await next.current()).toEqual({ token: env.envToken, secret: env.envSecret });
    seenSecrets.add('new-secret-from-console').add('new-token-from-console');
    // The log says what is known: the pair changed (its fingerprint is one hash of both), not that both did.
    const taken = logs.lines().map((l) => JSON.parse(l) as { message: string; why?: string }).filter((l) => l.message === 'using the MantaGo token pair from the environment');
    expect(taken.at(-1)?.why).toBe("the environment's pair changed (MANTAGO_TOKEN or MANTAGO_SECRET, or both)");
  });

  it('two concurrent 401s cause ONE refresh call, and both operations are applied', async () => {
    fake.api.enqueueFor(isMapping, { status: 401, delayMs: 50 }, { status: 401, delayMs: 50 });
    const tagger = createMantagoTagger(client, credentials());
    await Promise.all([tagger.apply(op), tagger.apply({ ...op, userId: 'U-other' })]);
    expect(fake.tokenRequests).toHaveLength(1);
    expect(fake.personalTagsOf('line', 'U-user')).toEqual(['tag-1']);
    expect(fake.personalTagsOf('line', 'U-other')).toEqual(['tag-1']);
  });

  it('two instances on one store meeting a 401 at once refresh ONCE; the second uses the pair the first stored', async () => {
    const a = credentials({ cacheTtlMs: 60_000 });
    const b = credentials({ cacheTtlMs: 60_000 });
    await a.init();
    await b.init();
    fake.api.enqueueFor(isMapping, { status: 401, delayMs: 30 }, { status: 401, delayMs: 30 });
    await Promise.all([createMantagoTagger(client, a).apply(op), createMantagoTagger(client, b).apply({ ...op, tagId: 'tag-b' })]);
    expect(fake.tokenRequests).toHaveLength(1);
    expect(fake.personalTagsOf('line', 'U-user')).toEqual(['tag-1', 'tag-b']);
  });

  it("an instance holding a cached old pair picks up another instance's refresh at its first 401", async () => {
    const a = credentials({ cacheTtlMs: 60_000 });
    const b = credentials({ cacheTtlMs: 60_000 });
    await a.init();
    await b.init();
    await b.current(); // b caches the environment pair
    await a.refreshAfter401({ token: fake.token }); // a rotates it: the old pair stops working
    await createMantagoTagger(client, b).apply(op);
    expect(fake.tokenRequests).toHaveLength(1);
    expect(fake.tagRequests.map((r) => r.status)).toEqual([401, 200]);
  });

  it('a refreshed pair that cannot be stored is still used by this process, and the failure is logged', async () => {
    const creds = credentials();
    await creds.init();
    store.failNextSets(1);
    const fresh = await creds.refreshAfter401({ token: fake.token });
    expect(fresh).toEqual({ token: fake.token, secret: fake.secret });
    expect(await creds.current()).toEqual(fresh);
    expect(logs.lines().some((l) => l.includes('could not be stored'))).toBe(true);
  });
});
