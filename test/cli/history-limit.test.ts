import type { UserHistory } from '../../src/store/store';
import { startHarness, type Harness } from '../helpers/app-harness';
import { describeEachEngine } from '../helpers/engines';
import { accepted, batch, tagOp } from '../store/builders';
import { runCli } from './cli-run';

/** More events than `autotag history` shows by default (200). */
const EVENTS = 205;
const USER = 'Ulong';

describeEachEngine('autotag history of a user with more events than the limit', (on) => {
  let h: Harness;
  let env: Record<string, string>;

  beforeAll(async () => {
    h = await startHarness({}, undefined, on);
    env = on.engine === 'postgres' ? { DATABASE_URL: on.url, DATABASE_SCHEMA: h.schema ?? '' } : { DATA_DIR: h.dataDir };
    const events = Array.from({ length: EVENTS }, (_, i) => accepted(`long-${i}`, [tagOp({ userId: USER, tagId: `t${i}` })], { event: { userId: USER, timestamp: 1_700_000_000_000 + i } }));
    await h.store.accept(batch(1_700_000_100_000, events));
    // Two tag calls: the calls are not cut by the default limit.
    const ops = await h.store.claimOperations({ scope: { account: 'mantago' }, limit: 2, owner: 'w', now: 1_700_000_100_000, leaseMs: 60_000 });
    for (const op of ops) await h.store.completeOperation(op, 'w', 1_700_000_200_000, { status: 200 });
  });
  afterAll(async () => h.cleanup());

  it('says that older events were left out, and how many there are in all', async () => {
    const text = await runCli(['history', '--user', USER], env);
    expect(text.code).toBe(0);
    expect(text.stdout.match(/ line message /g)).toHaveLength(200);
    expect(text.stdout).not.toContain('(event long-4,');
    expect(text.stdout).toContain('(event long-5,');
    expect(text.stdout.endsWith(`(showing the latest 200 events of ${EVENTS}; --limit N for more)\n`)).toBe(true);

    const fewer = await runCli(['history', '--user', USER, '--limit', '1'], env);
    expect(fewer.stdout.endsWith(`(showing the latest 1 event of ${EVENTS}, the latest 1 tag call of 2; --limit N for more)\n`)).toBe(true);

    const all = await runCli(['history', '--user', USER, '--limit', '500'], env);
    expect(all.stdout.match(/ line message /g)).toHaveLength(EVENTS);
    expect(all.stdout).not.toContain('showing');
  });

  it('--json keeps its fields and adds the totals and whether some were left out', async () => {
    const r = await runCli(['history', '--user', USER, '--json'], env);
    expect(r.code).toBe(0);
    const history = JSON.parse(r.stdout) as UserHistory;
    expect(Object.keys(history)).toEqual(['userId', 'events', 'calls', 'expiring', 'total', 'truncated']);
    expect(history.userId).toBe(USER);
    expect(history.events).toHaveLength(200);
    expect(history.events[0]?.eventId).toBe('long-5');
    expect(history.calls).toHaveLength(2);
    expect(history.total).toEqual({ events: EVENTS, calls: 2, expiring: 0 });
    expect(history.truncated).toBe(true);

    const whole = JSON.parse((await runCli(['history', '--user', USER, '--json', '--limit', '500'], env)).stdout) as UserHistory;
    expect(whole.events).toHaveLength(EVENTS);
    expect(whole.truncated).toBe(false);
  });
});
