import pg from 'pg';
import { listening } from '../store/pg-waits';
import { describePostgres, dropSchema, newSchemaName } from '../helpers/pg-schema';
import { postLineText } from '../helpers/service-process';
import { serviceFixture } from '../helpers/service-fixture';

/*
 * CONTRACT.md "Retries": a `Retry-After` pauses calls to that provider account until then — the
 * account, which every instance sharing the database calls, not only the instance that met it.
 * Two real processes on the real PostgreSQL: one meets `429 Retry-After: 3`, and the other one,
 * given webhooks of its own meanwhile, makes no call to the account until the pause is over.
 */

const SECRET = 'shared-pause-line-secret';
const PAUSE_S = 3;

describePostgres('a Retry-After pauses the account on every instance (PostgreSQL, real processes)', (url) => {
  const services = serviceFixture({ lineSecret: SECRET, rulesDirPrefix: 'autotag-shared-pause-rules-' });
  let schema: string;
  beforeEach(() => {
    schema = newSchemaName('autotag_pause');
  });
  afterEach(async () => dropSchema(url, schema));

  const start = () => services.start({ DATABASE_URL: url, DATABASE_SCHEMA: schema, RETRY_MIN_MS: '50', RETRY_MAX_MS: '10000' });

  it('the other instance makes no call to the account until the pause has passed, then both go on', async () => {
    const [a, b] = [await start(), await start()];
    // Both instances LISTEN before the 429 (a pause sent earlier would reach no one).
    const admin = new pg.Pool({ connectionString: url, max: 1 });
    try {
      await listening(admin, schema, 2);
    } finally {
      await admin.end();
    }
    const isMapping = (r: { path: string }) => r.path.includes('TagMapping');
    services.mantago.api.enqueueFor(isMapping, { status: 429, headers: { 'retry-after': String(PAUSE_S) }, body: { success: false } });

    // The first webhook meets the 429, on whichever instance claims it.
    expect(await postLineText(a.url, SECRET, 'coupon', 'U-first')).toBe(200);
    await services.mantago.api.waitFor((rs) => rs.some((r) => isMapping(r) && r.status === 429));
    const limitedAt = Date.now();
    // The pause reaches the other instance (a NOTIFY; it logs that it heard it), then webhooks on both.
    const heard = (l: Record<string, unknown>) => l.message === 'calls to a provider account paused: another instance met its Retry-After';
    await Promise.race([a.waitForLog(heard), b.waitForLog(heard)]);
    expect([...a.logs, ...b.logs].filter(heard)).toHaveLength(1);
    for (let i = 0; i < 4; i++) {
      expect(await postLineText(a.url, SECRET, 'coupon', `U-a${i}`)).toBe(200);
      expect(await postLineText(b.url, SECRET, 'coupon', `U-b${i}`)).toBe(200);
    }

    // All nine tags arrive in the end…
    await services.mantago.api.waitFor((rs) => rs.filter((r) => isMapping(r) && r.status === 200).length === 9, 20_000);
    const calls = services.mantago.api.requests.filter(isMapping);
    // …and after the 429 no call at all came before its pause was over (a little less, for the
    // two clocks: the pause counts from when the service read the answer).
    const during = calls.filter((r) => r.receivedAt > limitedAt && r.receivedAt < limitedAt + PAUSE_S * 1000 - 200);
    expect(during.map((r) => r.receivedAt - limitedAt)).toEqual([]);
    expect(calls.filter((r) => r.status === 429)).toHaveLength(1);
  }, 40_000);
});
