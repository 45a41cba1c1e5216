import request from 'supertest';
import { startFakeMantago, type FakeMantago } from '../helpers/fake-tag-api';
import { signLine } from '../helpers/signatures';
import { lineBody, startHarness, type Harness } from '../helpers/app-harness';
import { startDelivery, type RunningDelivery } from '../helpers/delivery-harness';
import { mantagoEnv } from '../helpers/service-process';
import { describeEachEngine } from '../helpers/engines';

/*
 * CONTRACT.md, "What an event becomes": an event more than 8 days before its receipt is
 * acknowledged and produces nothing. A captured webhook (forward destinations receive the
 * signed bytes) replayed 9 days later must not re-add a tag the user had removed since.
 */

const SECRET = 'line-secret-stale-events';
const DAY_MS = 86_400_000;

const RULES = {
  'rules.yaml': `
defaults: { provider: mantago }
rules:
  - id: subscribe
    when: { postback: action=subscribe }
    then: [ { add_tag: tag-newsletter } ]
  - id: unsubscribe
    when: { postback: action=unsubscribe }
    then: [ { remove_tag: tag-newsletter } ]
`,
};

let eventSeq = 0;
/** A LINE postback event (https://developers.line.biz/en/reference/messaging-api/#postback-event) at `timestamp`. */
const postback = (data: string, userId: string, timestamp: number) => ({
  type: 'postback',
  mode: 'active',
  timestamp,
  source: { type: 'user', userId },
  webhookEventId: `01STALE${String(++eventSeq).padStart(6, '0')}${Math.random().toString(36).slice(2, 8).toUpperCase()}`,
  deliveryContext: { isRedelivery: false },
  replyToken: 'r',
  postback: { data },
});

describeEachEngine('events more than 8 days old are acknowledged and change nothing', (on) => {
  let mantago: FakeMantago;
  let h: Harness;
  let running: RunningDelivery;

  beforeAll(async () => {
    mantago = await startFakeMantago();
    h = await startHarness({ LINE_CHANNEL_SECRET: SECRET, ...mantagoEnv(mantago) }, RULES, on);
    running = await startDelivery(h, { LINE_CHANNEL_SECRET: SECRET, ...mantagoEnv(mantago) });
  });
  afterAll(async () => {
    await running.stop();
    await h.cleanup();
    await mantago.close();
  });

  const post = (body: string) => request(h.app).post('/webhooks/line').set('content-type', 'application/json').set('x-line-signature', signLine(body, SECRET)).send(body);
  const tagCallsOf = (userId: string) => mantago.tagRequests.filter((r) => (r.body as { platformClientId?: unknown } | undefined)?.platformClientId === userId);

  it('a webhook replayed 9 days after its events leaves removed tags removed: 200, no call, no history, counted', async () => {
    // The captured webhook: two users subscribed, 9 days before now (by the test clock).
    const capturedAt = Date.now() - 9 * DAY_MS;
    const captured = lineBody([postback('action=subscribe', 'Ualice', capturedAt), postback('action=subscribe', 'Ubob', capturedAt + 1)]);

    // Since then Alice unsubscribed through the bot, and Bob's tag was taken off in MantaGo by hand.
    await post(lineBody([postback('action=unsubscribe', 'Ualice', Date.now() - 2 * DAY_MS)])).expect(200, {});
    await running.waitForOutcomes(1, (o) => o.outcome === 'applied');
    const callsBefore = mantago.tagRequests.length;
    expect(tagCallsOf('Ualice')).toHaveLength(1);

    const replay = await post(captured);
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual({});

    // Nothing was queued, so nothing can reach MantaGo; the history does not mention the replay.
    const status = await h.store.status(Date.now());
    expect(status.operations.pending).toBe(0);
    expect(await h.store.nextDueAt('operations')).toBeNull();
    expect(mantago.tagRequests).toHaveLength(callsBefore);
    expect(tagCallsOf('Ubob')).toEqual([]);
    expect(mantago.personalTagsOf('line', 'Ualice')).toEqual([]);
    expect(mantago.personalTagsOf('line', 'Ubob')).toEqual([]);
    const alice = await h.store.userHistory('Ualice');
    expect(alice.events).toHaveLength(1);
    expect(alice.calls.map((c) => c.outcome)).toEqual(['applied']);
    expect((await h.store.userHistory('Ubob')).events).toEqual([]);

    const metrics = await request(h.app).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/^autotag_stale_events_total\{platform="line",channel="line"\} 2$/m);
    const warnings = h.logs.parsed().filter((l) => l.message === 'event ignored: older than the longest platform retry');
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatchObject({ level: 'warn', platform: 'line', channel: 'line' });
    expect(warnings[0]!.ageMs).toBeGreaterThanOrEqual(9 * DAY_MS);
  });

  it('an event 7 days old (WhatsApp still retries then) is acted on, and so is one from the future', async () => {
    await post(lineBody([postback('action=subscribe', 'Ucarol', Date.now() - 7 * DAY_MS), postback('action=subscribe', 'Udave', Date.now() + DAY_MS)])).expect(200, {});
    await running.waitForOutcomes(2, (o) => o.outcome === 'applied' && o.op.userId !== 'Ualice');
    expect(mantago.personalTagsOf('line', 'Ucarol')).toEqual(['tag-newsletter']);
    expect(mantago.personalTagsOf('line', 'Udave')).toEqual(['tag-newsletter']);
  });
});

describe('an event time in the future counts as the receipt time for schedules too', () => {
  let h: Harness;
  // A campaign that starts a day after now (the receipt), in UTC.
  const startsAt = new Date(Date.now() + DAY_MS).toISOString().slice(0, 16);
  const rules = {
    'rules.yaml': `
defaults: { provider: mantago }
rules:
  - id: launch-campaign
    when:
      postback: action=launch
      schedule: { from: ${startsAt}, timezone: UTC }
    then: [ { add_tag: tag-launch } ]
  - id: any-launch-click
    when: { postback: action=launch }
    then: [ { add_tag: tag-clicked } ]
`,
  };

  beforeAll(async () => {
    h = await startHarness({ LINE_CHANNEL_SECRET: SECRET, MANTAGO_TOKEN: 't', MANTAGO_SECRET: 's', MANTAGO_BOT_ID: '1' }, rules);
  });
  afterAll(async () => {
    await h.cleanup();
  });

  it('a webhook whose event says it happens two days from now does not match a schedule that begins tomorrow', async () => {
    const body = lineBody([postback('action=launch', 'Ufuture', Date.now() + 2 * DAY_MS)]);
    await request(h.app).post('/webhooks/line').set('content-type', 'application/json').set('x-line-signature', signLine(body, SECRET)).send(body).expect(200, {});
    const accepted = h.logs.parsed().filter((l) => l.message === 'webhook accepted');
    expect(accepted).toHaveLength(1);
    expect(accepted[0]?.matched).toEqual(['any-launch-click']);
    const ops = (await h.store.userHistory('Ufuture')).events[0];
    expect(ops?.matched).toEqual(['any-launch-click']);
  });
});
