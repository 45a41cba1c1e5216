import { createLogger } from '../../../src/log';
import { createMantagoClient, type MantagoClient } from '../../../src/providers/mantago';
import { createMantagoCredentials } from '../../../src/providers/mantago-credentials';
import { keepPairFresh, type PairKeeper } from '../../../src/providers/mantago-pair-keeper';
import { createMemorySettingsStore, jwtExpiringIn, mantagoError, startFakeMantago, type FakeMantago } from '../../helpers/fake-tag-api';

const HOUR = 3600_000;

/**
 * CONTRACT.md: the pair is refreshed "before the JWT's exp … proactively when less than 24 hours
 * of the JWT remain" — with no tag call to make too. The keeper looks at the pair in force on a
 * clock the test moves (the credentials read the same clock), against a fake MantaGo.
 */
describe('MantaGo pair keeper: refreshes an idle account before its token runs out', () => {
  let fake: FakeMantago;
  let client: MantagoClient;
  let keeper: PairKeeper | undefined;
  let clock: number;
  const log = createLogger({ level: 'error' });

  beforeEach(async () => {
    fake = await startFakeMantago({ botId: 'bot-1' });
    client = createMantagoClient({ baseUrl: fake.baseUrl, botId: 'bot-1', timeoutMs: 2000 });
    clock = Date.now();
  });
  afterEach(async () => {
    await keeper?.stop();
    keeper = undefined;
    await client.close();
    await fake.close();
  });

  const start = (token: string, over: { proactivePauseMs?: number; retryMs?: number } = {}) => {
    fake.setPair(token, 'secret-1');
    const credentials = createMantagoCredentials({
      envToken: token,
      envSecret: 'secret-1',
      store: createMemorySettingsStore(),
      client,
      log,
      now: () => clock,
      cacheTtlMs: 0,
      ...(over.proactivePauseMs !== undefined ? { proactivePauseMs: over.proactivePauseMs } : {}),
    });
    looks = 0;
    const counted = {
      current: () => {
        looks++;
        if (looks >= lookWanted.n) lookWanted.resolve();
        return credentials.current();
      },
    };
    // Looks at least every 20 ms, so that the moved clock is seen at once.
    keeper = keepPairFresh({ credentials: counted, log, now: () => clock, maxWaitMs: 20, ...(over.retryMs !== undefined ? { retryMs: over.retryMs } : {}) });
    return credentials;
  };
  let looks = 0;
  let lookWanted = { n: Infinity, resolve: () => undefined as void };
  /** Resolves once the keeper has looked `n` times in all. */
  const looked = (n: number) =>
    new Promise<void>((resolve) => {
      lookWanted = { n, resolve };
      if (looks >= n) resolve();
    });

  it('leaves a token with more than 24 h left alone, and refreshes it once its last 24 h begin', async () => {
    const token = jwtExpiringIn(25 * HOUR);
    const credentials = start(token);
    // Several looks at 25 h left: no refresh.
    await looked(3);
    expect(fake.tokenRequests).toEqual([]);
    expect(await credentials.current()).toMatchObject({ token });

    clock += HOUR + 1000;
    await fake.api.waitFor((rs) => rs.some((r) => r.path.endsWith('/openapi/token') && r.status === 200));
    expect(fake.tokenRequests[0]!.headers.authorization).toBe(`Bearer ${token}`);
    expect(fake.tagRequests).toEqual([]);
    const fresh = fake.issued[0]!;
    expect(await credentials.current()).toEqual(fresh);
  });

  it('tries again after a refresh that failed, once the proactive pause is over', async () => {
    fake.api.enqueueFor((r) => r.path.endsWith('/openapi/token'), { status: 503, body: mantagoError(503, 'maintenance') });
    start(jwtExpiringIn(HOUR), { proactivePauseMs: 0, retryMs: 10 });
    await fake.api.waitFor((rs) => rs.filter((r) => r.path.endsWith('/openapi/token')).some((r) => r.status === 200));
    expect(fake.tokenRequests.map((r) => r.status)).toEqual([503, 200]);
  });

  it('stop() resolves only once a look under way has ended: it may be about to start a refresh that no count of refreshes holds yet', async () => {
    let answer: (pair: { token: string; secret: string }) => void = () => undefined;
    let asked = () => undefined as void;
    const askedOnce = new Promise<void>((resolve) => (asked = resolve));
    const slow = {
      current: () =>
        new Promise<{ token: string; secret: string }>((resolve) => {
          answer = resolve;
          asked();
        }),
    };
    const k = keepPairFresh({ credentials: slow, log, now: () => clock });
    await askedOnce;
    let stopped = false;
    const stopping = k.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stopped).toBe(false);
    answer({ token: jwtExpiringIn(30 * 24 * HOUR), secret: 'secret-1' });
    await stopping;
    expect(stopped).toBe(true);
  });
});
