import request from 'supertest';
import { runHistory } from '../../src/cli/history';
import type { Store } from '../../src/store/store';
import { bufferIo } from '../cli/cli-run';
import { startFakeMantago, type FakeMantago } from '../helpers/fake-tag-api';
import { signLine } from '../helpers/signatures';
import { lineBody, lineText, startHarness, type Harness } from '../helpers/app-harness';
import { startDelivery, type RunningDelivery } from '../helpers/delivery-harness';

const SECRET = 'line-secret-lifetimes';

const RULES = {
  'rules.yaml': `
defaults:
  provider: mantago
rules:
  - id: trial
    when: { text: { contains: trial } }
    then:
      - add_tag: tag-trial
        for: 1s
  - id: member
    when: { text: { contains: member } }
    then:
      - add_tag: tag-member
        for: 1h
  - id: subscribe
    when: { postback: action=subscribe }
    then:
      - add_tag: tag-newsletter
  - id: unsubscribe
    when: { postback: action=unsubscribe }
    then:
      - remove_tag: tag-newsletter
`,
};

const postback = (data: string, userId: string, timestamp: number) => ({
  type: 'postback',
  mode: 'active',
  timestamp,
  source: { type: 'user', userId },
  webhookEventId: `pb-${Math.random().toString(36).slice(2)}`,
  deliveryContext: { isRedelivery: timestamp < Date.now() - 60_000 },
  replyToken: 'r',
  postback: { data },
});

/** The requests MantaGo got for one user. */
const requestsOf = (m: FakeMantago, userId: string) =>
  m.tagRequests.filter((r) => (r.body as { platformClientId?: unknown } | undefined)?.platformClientId === userId);

/** The store, counting the claims each account's loop makes. */
function countingClaims(store: Store): { store: Store; claims: Record<string, number> } {
  const claims: Record<string, number> = {};
  const counted: Store = Object.create(store) as Store;
  counted.claimOperations = (o) => {
    const loop = 'account' in o.scope ? o.scope.account : 'others';
    claims[loop] = (claims[loop] ?? 0) + 1;
    return store.claimOperations(o);
  };
  return { store: counted, claims };
}

describe('tag lifetimes and event-time order, delivered', () => {
  let h: Harness;
  let mantago: FakeMantago;
  let running: RunningDelivery | undefined;
  let env: Record<string, string>;

  const post = (events: Record<string, unknown>[]) => {
    const body = lineBody(events);
    return request(h.app).post('/webhooks/line').set('content-type', 'application/json').set('x-line-signature', signLine(body, SECRET)).send(body).expect(200);
  };

  beforeEach(async () => {
    mantago = await startFakeMantago();
    h = await startHarness({ LINE_CHANNEL_SECRET: SECRET }, RULES);
    env = {
      DATA_DIR: h.dataDir,
      RULES_DIR: h.config.rulesDir,
      MANTAGO_BASE_URL: mantago.baseUrl,
      MANTAGO_BOT_ID: mantago.botId,
      MANTAGO_TOKEN: mantago.token,
      MANTAGO_SECRET: mantago.secret,
      RETRY_MIN_MS: '20',
      RETRY_MAX_MS: '100',
    };
  });
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await h.cleanup();
    await mantago.close();
  });

  it('removes a tag when its lifetime ends, woken by the due time instead of polling, and the history says why', async () => {
    const counted = countingClaims(h.store);
    running = await startDelivery({ ...h, store: counted.store }, env);
    const at = Date.now();
    await post([lineText('start my trial', 'Utrial', { timestamp: at })]);
    await running.waitForOutcomes(1, (o) => o.outcome === 'applied' && o.op.action === 'add');
    const claimsAfterAdd = counted.claims.mantago ?? 0;
    expect(mantago.personalTagsOf('line', 'Utrial')).toEqual(['tag-trial']);

    const [removal] = await running.waitForOutcomes(1, (o) => o.outcome === 'applied' && o.op.action === 'remove');
    expect(removal?.op).toMatchObject({ tagId: 'tag-trial', version: 2, requestedAt: at + 1000 });
    expect(mantago.personalTagsOf('line', 'Utrial')).toEqual([]);
    const [add, remove] = mantago.tagRequests;
    expect(remove?.path).toBe('/api/openapi/personalTagMapping/delete');
    expect(remove?.body).toEqual({ secret: mantago.secret, tagId: 'tag-trial', platform: 'line', platformClientId: 'Utrial' });
    expect(remove!.receivedAt).toBeGreaterThanOrEqual(at + 1000);
    // Woken by the due time: the loop's safety-net timer alone (5 s) would come seconds later.
    expect(remove!.receivedAt).toBeLessThan(at + 4000);
    expect(add!.receivedAt).toBeLessThan(at + 1000);
    // Slept until the removal was due: a loop polling every few ms would have claimed ~100 times.
    expect((counted.claims.mantago ?? 0) - claimsAfterAdd).toBeLessThanOrEqual(6);

    const history = await h.store.userHistory('Utrial');
    expect(history.calls.map((c) => [c.operation.action, c.outcome, c.rule])).toEqual([
      ['add', 'applied', undefined],
      ['remove', 'expired', 'trial'],
      ['remove', 'applied', undefined],
    ]);
    const io = bufferIo();
    expect(await runHistory({ user: 'Utrial' }, env, io)).toBe(0);
    expect(io.out).toMatch(/matched trial → add mantago\/personal tag tag-trial for 1s/);
    expect(io.out).toMatch(/expired: remove mantago\/personal tag tag-trial — the lifetime set by rule trial ended: the tag is removed/);
    expect(io.out).toMatch(/call remove mantago\/personal tag tag-trial: applied \(200\)/);
  });

  it('shows a running lifetime in the history, and an add that arrived after its lifetime as expired', async () => {
    running = await startDelivery(h, env);
    const at = Date.now();
    // An hour's lifetime: still running when the history is read, however slow the machine.
    await post([lineText('member', 'Ushow', { timestamp: at })]);
    const history = await h.store.userHistory('Ushow');
    expect(history.expiring).toEqual([{ operation: expect.objectContaining({ action: 'add', tagId: 'tag-member' }), expiresAt: at + 3_600_000, rule: 'member' }]);
    const io = bufferIo();
    await runHistory({ user: 'Ushow' }, env, io);
    expect(io.out).toContain(`will expire:\n  add mantago/personal tag tag-member: removed at ${new Date(at + 3_600_000).toISOString()} (for: of rule member)\n`);
    // Read as if the hour had passed without the service running to make the removal: it is due, not to come.
    const later = bufferIo();
    await runHistory({ user: 'Ushow' }, env, later, () => at + 3_600_000);
    expect(later.out).toContain(`will expire:\n  add mantago/personal tag tag-member: removal due since ${new Date(at + 3_600_000).toISOString()} (the running service makes it) (for: of rule member)\n`);

    // A redelivery from an hour ago: its lifetime ran out long before it arrived.
    await post([lineText('trial', 'Ulate', { timestamp: at - 3_600_000, deliveryContext: { isRedelivery: true } })]);
    const late = await h.store.userHistory('Ulate');
    expect(late.calls).toEqual([expect.objectContaining({ outcome: 'expired', cause: 'arrived_expired', rule: 'trial', version: 0 })]);
    const lateIo = bufferIo();
    await runHistory({ user: 'Ulate' }, env, lateIo);
    expect(lateIo.out).toMatch(/expired: add mantago\/personal tag tag-trial for 1s — its lifetime \(rule trial\) had run out when it arrived: nothing to do/);
    expect(requestsOf(mantago, 'Ulate')).toEqual([]);
  });

  it('a redelivered subscribe older than the unsubscribe that came first changes nothing, and no call is made for it', async () => {
    running = await startDelivery(h, env);
    const now = Date.now();
    await post([postback('action=unsubscribe', 'Uorder', now)]);
    await running.waitForOutcomes(1, (o) => o.outcome === 'applied');
    // Meta and LINE redeliver for hours: this morning's subscribe arrives after this afternoon's unsubscribe.
    await post([postback('action=subscribe', 'Uorder', now - 4 * 3_600_000)]);
    await post([postback('action=unsubscribe', 'Uother', now)]); // later work for the loop, to be sure it ran
    await running.waitForOutcomes(2, (o) => o.outcome === 'applied');
    expect(requestsOf(mantago, 'Uorder').map((r) => r.path)).toEqual([
      '/api/openapi/personalTagMapping/delete',
    ]);
    const io = bufferIo();
    await runHistory({ user: 'Uorder' }, env, io);
    expect(io.out).toMatch(
      /superseded: add mantago\/personal tag tag-newsletter — an event newer than this one \(by its time\) had already set this tag: nothing to do/,
    );
  });
});
