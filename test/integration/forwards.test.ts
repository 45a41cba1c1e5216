import crypto from 'node:crypto';
import { validateSignature } from '@line/bot-sdk';
import request from 'supertest';
import { signLine, signMeta } from '../helpers/signatures';
import { lineBody, lineText, recentTimestamp, startHarness, type Harness } from '../helpers/app-harness';
import { startDelivery, type RunningDelivery } from '../helpers/delivery-harness';
import { describeEachEngine } from '../helpers/engines';
import { deferred, Downstream } from '../helpers/downstream';

const LINE_SECRET = 'forward-line-secret';
const META_SECRET = 'forward-meta-secret';

describe('forwarding verified webhooks', () => {
  let h: Harness | undefined;
  let running: RunningDelivery | undefined;
  const downstreams: Downstream[] = [];

  async function setup(n: number, env: Record<string, string> = {}) {
    for (let i = 0; i < n; i++) downstreams.push(await Downstream.start());
    const urls = downstreams.map((d, i) => `${d.url}/hook/${i}?key=k${i}`);
    const all = { LINE_CHANNEL_SECRET: LINE_SECRET, FACEBOOK_APP_SECRET: META_SECRET, LINE_FORWARD_URLS: urls.join(','), FACEBOOK_FORWARD_URLS: urls[0] ?? '', RETRY_MIN_MS: '20', RETRY_MAX_MS: '100', ...env };
    h = await startHarness(all);
    running = await startDelivery(h, all);
    return { h, running };
  }

  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await h?.cleanup();
    h = undefined;
    for (const d of downstreams.splice(0)) await d.close();
  });

  const postLineRaw = (hh: Harness, raw: string, sig = signLine(raw, LINE_SECRET)) =>
    request(hh.app).post('/webhooks/line').set('content-type', 'application/json; charset=utf-8').set('x-line-signature', sig).send(raw);

  it('sends the raw LINE body byte for byte with its signature, which the downstream verifies with the SDK', async () => {
    const { h } = await setup(1);
    // Chinese, emoji, odd spacing and escapes: anything re-serialized would differ.
    const raw = `{"destination":"Uabc","events":[ {"type":"message","mode":"active","timestamp":${recentTimestamp()},"source":{"type":"user","userId":"Uemoji"},"webhookEventId":"01FWD","deliveryContext":{"isRedelivery":false},"replyToken":"r","message":{"id":"1","type":"text","quoteToken":"q","text":"我要優惠券 🎁 \\u2764 \\/ok"}} ]}`;
    await postLineRaw(h, raw).expect(200);
    await downstreams[0]!.waitFor((r) => r.length === 1);
    const got = downstreams[0]!.received[0]!;
    expect(got.raw.equals(Buffer.from(raw, 'utf8'))).toBe(true);
    expect(got.path).toBe('/hook/0?key=k0');
    expect(got.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(validateSignature(got.raw, LINE_SECRET, String(got.headers['x-line-signature']))).toBe(true);
  });

  it('sends the raw Meta body with X-Hub-Signature-256, which the downstream verifies itself', async () => {
    const { h } = await setup(1);
    const raw = `{"object":"page","entry":[{"id":"P1","time":1,"messaging":[{"sender":{"id":"S1"},"recipient":{"id":"P1"},"timestamp":${recentTimestamp()},"message":{"mid":"m.fwd","text":"\\u6211\\u8981 \\ud83c\\udf81"}}]}]}`;
    await request(h.app).post('/webhooks/facebook').set('content-type', 'application/json').set('x-hub-signature-256', signMeta(raw, META_SECRET)).send(raw).expect(200);
    await downstreams[0]!.waitFor((r) => r.length === 1);
    const got = downstreams[0]!.received[0]!;
    expect(got.raw.toString('utf8')).toBe(raw);
    const expected = 'sha256=' + crypto.createHmac('sha256', META_SECRET).update(got.raw).digest('hex');
    expect(got.headers['x-hub-signature-256']).toBe(expected);
  });

  it('never forwards a request that failed verification, and forwards redeliveries too', async () => {
    const { h, running } = await setup(1);
    const body = lineBody([lineText('hello', 'Ux')]);
    await postLineRaw(h, body, signLine(body, 'wrong')).expect(401);
    await postLineRaw(h, body).expect(200);
    await postLineRaw(h, body).expect(200); // a redelivery: forwarded again, tagged once
    await running.waitForForwards(2);
    expect(downstreams[0]!.received).toHaveLength(2);
  });

  it("answers the platform without waiting for a slow downstream", async () => {
    const { h } = await setup(1);
    const release = deferred<number>();
    downstreams[0]!.answer(() => ({ hold: release.promise }));
    const body = lineBody([lineText('hi', 'Uslow')]);
    const ack = postLineRaw(h, body);
    const res = await ack;
    expect(res.status).toBe(200);
    // the downstream got the forward and has not answered yet: the ack did not wait for it
    await downstreams[0]!.waitFor((r) => r.length === 1);
    expect(downstreams[0]!.received[0]!.status).toBeUndefined();
    release.resolve(200);
    await downstreams[0]!.waitFor((r) => r[0]?.status === 200);
  });

  it('a downstream that is down for a while receives everything afterwards, in order per user', async () => {
    const { h, running } = await setup(1);
    let down = true;
    downstreams[0]!.answer(() => ({ status: down ? 503 : 200 }));
    const users = ['Ua', 'Ub', 'Uc'];
    const sent: Record<string, string[]> = { Ua: [], Ub: [], Uc: [] };
    for (let i = 0; i < 5; i++) {
      for (const u of users) {
        const e = lineText(`m${i}`, u);
        sent[u]!.push(String(e.webhookEventId));
        await postLineRaw(h, lineBody([e])).expect(200);
      }
    }
    await running.waitForForwards(6, (o) => o.outcome === 'retry');
    down = false;
    await downstreams[0]!.waitFor(() => downstreams[0]!.delivered.length === 15, 15_000);
    for (const u of users) {
      const order = downstreams[0]!.delivered
        .map((r) => JSON.parse(r.raw.toString()) as { events: { source: { userId: string }; webhookEventId: string }[] })
        .filter((b) => b.events[0]!.source.userId === u)
        .map((b) => b.events[0]!.webhookEventId);
      expect(order).toEqual(sent[u]);
    }
  });

  it("a failing forward holds that user's later forwards but not other users'", async () => {
    const { h, running } = await setup(1);
    let failX = true;
    downstreams[0]!.answer((r) => ({ status: failX && r.raw.includes('"Ux"') ? 500 : 200 }));
    await postLineRaw(h, lineBody([lineText('1', 'Ux')])).expect(200);
    await postLineRaw(h, lineBody([lineText('2', 'Ux')])).expect(200);
    await postLineRaw(h, lineBody([lineText('1', 'Uy')])).expect(200);
    await downstreams[0]!.waitFor(() => downstreams[0]!.delivered.some((r) => r.raw.includes('"Uy"')));
    await running.waitForForwards(2, (o) => o.outcome === 'retry');
    // the second Ux forward has not been sent while the first keeps failing
    expect(downstreams[0]!.received.filter((r) => r.raw.includes('"Ux"') && r.raw.includes('"2"'))).toHaveLength(0);
    failX = false;
    await downstreams[0]!.waitFor(() => downstreams[0]!.delivered.filter((r) => r.raw.includes('"Ux"')).length === 2);
    const xs = downstreams[0]!.delivered.filter((r) => r.raw.includes('"Ux"')).map((r) => (JSON.parse(r.raw.toString()) as { events: { message: { text: string } }[] }).events[0]!.message.text);
    expect(xs).toEqual(['1', '2']);
  });

  it("one destination's failures never delay another", async () => {
    const { h } = await setup(2);
    const release = deferred<number>();
    downstreams[0]!.answer(() => ({ hold: release.promise }));
    await postLineRaw(h, lineBody([lineText('a', 'U1')])).expect(200);
    await postLineRaw(h, lineBody([lineText('b', 'U1')])).expect(200);
    // destination 1 gets both while destination 0 still holds the first
    await downstreams[1]!.waitFor(() => downstreams[1]!.delivered.length === 2);
    expect(downstreams[0]!.received).toHaveLength(1);
    release.resolve(200);
    await downstreams[0]!.waitFor(() => downstreams[0]!.delivered.length === 2);
  });

  it('a 4xx other than 408/429 is a dead letter at once; dead-letters retry sends it again', async () => {
    const { h, running } = await setup(1);
    downstreams[0]!.answer(() => ({ status: 403 }));
    await postLineRaw(h, lineBody([lineText('x', 'U403')])).expect(200);
    const [dead] = await running.waitForForwards(1, (o) => o.outcome === 'dead');
    expect(dead?.reason).toMatch(/^403 from 127\.0\.0\.1:\d+/);
    const letters = await h.store.listDeadLetters();
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ type: 'forward', status: 403 });
    expect(letters[0]!.id).toMatch(/^fwd-\d+$/);
    downstreams[0]!.answer(() => ({ status: 200 }));
    await h.store.retryDeadLetters('all', Date.now());
    running.delivery.wake('forwards');
    await running.waitForForwards(1, (o) => o.outcome === 'delivered');
  });

  it("keeps the service's secrets out of the answer a dead letter keeps, as a tag API's (the downstream shares the channel secret)", async () => {
    const MANTAGO = { MANTAGO_TOKEN: 'forward-mantago-token-0123', MANTAGO_SECRET: 'forward-mantago-secret-0123', MANTAGO_BOT_ID: '7' };
    const { h, running } = await setup(1, MANTAGO);
    // A bot's debug error page that prints its environment: it verifies the forwards with the same LINE secret.
    downstreams[0]!.answer(() => ({ status: 400, body: `debug: LINE_CHANNEL_SECRET=${LINE_SECRET} MANTAGO_TOKEN=${MANTAGO.MANTAGO_TOKEN} MANTAGO_SECRET=${MANTAGO.MANTAGO_SECRET}` }));
    await postLineRaw(h, lineBody([lineText('x', 'Udebug')])).expect(200);
    await running.waitForForwards(1, (o) => o.outcome === 'dead');
    const [letter] = await h.store.listDeadLetters();
    expect(letter?.bodyExcerpt).toBe('debug: LINE_CHANNEL_SECRET=[redacted] MANTAGO_TOKEN=[redacted] MANTAGO_SECRET=[redacted]');
  });

  it('a forward whose FORWARD_GIVE_UP_MS ran out while no worker ran is a dead letter without being sent', async () => {
    const downstream = await Downstream.start();
    downstreams.push(downstream);
    const env = { LINE_CHANNEL_SECRET: LINE_SECRET, LINE_FORWARD_URLS: `${downstream.url}/late`, FORWARD_GIVE_UP_MS: '300' };
    h = await startHarness(env);
    await postLineRaw(h, lineBody([lineText('x', 'Ulate')])).expect(200);
    // The service was down past the forward's give-up time; it comes back with the destination up.
    await new Promise((r) => setTimeout(r, 400));
    running = await startDelivery(h, env);
    const [dead] = await running.waitForForwards(1, (o) => o.outcome === 'dead');
    expect(dead?.reason).toMatch(/^not sent: .* after receipt, past FORWARD_GIVE_UP_MS \(300 ms\)$/);
    expect(downstream.received).toEqual([]);
    expect(await h.store.listDeadLetters()).toMatchObject([{ type: 'forward' }]);
    // dead-letters retry restarts its clock: sent then.
    await h.store.retryDeadLetters('all', Date.now());
    running.delivery.wake('forwards');
    await running.waitForForwards(1, (o) => o.outcome === 'delivered');
    expect(downstream.delivered).toHaveLength(1);
  });

  it('a forward that failed, then waited past its give-up while the service was down, is a dead letter with that failure, not sent again', async () => {
    const downstream = await Downstream.start();
    downstreams.push(downstream);
    const env = { LINE_CHANNEL_SECRET: LINE_SECRET, LINE_FORWARD_URLS: `${downstream.url}/down`, FORWARD_GIVE_UP_MS: '700', RETRY_MIN_MS: '400', RETRY_MAX_MS: '400' };
    downstream.answer(() => ({ status: 500 }));
    h = await startHarness(env);
    running = await startDelivery(h, env);
    await postLineRaw(h, lineBody([lineText('x', 'Udown')])).expect(200);
    await running.waitForForwards(1, (o) => o.outcome === 'retry');
    await running.stop();
    await new Promise((r) => setTimeout(r, 800));
    downstream.answer(() => ({ status: 200 }));
    running = await startDelivery(h, env);
    const [dead] = await running.waitForForwards(1, (o) => o.outcome === 'dead');
    expect(dead?.reason).toMatch(/^not sent: .* past FORWARD_GIVE_UP_MS \(700 ms\); its last attempt: 500 from 127\.0\.0\.1:\d+$/);
    expect(downstream.received).toHaveLength(1);
    expect(await h.store.listDeadLetters()).toMatchObject([{ type: 'forward', status: 500 }]);
  });

  it('a forward queued for a destination no longer configured is a dead letter at the next start, saying so, not left waiting for ever', async () => {
    const [old, current] = [await Downstream.start(), await Downstream.start()];
    downstreams.push(old, current);
    const before = { LINE_CHANNEL_SECRET: LINE_SECRET, LINE_FORWARD_URLS: `${old.url}/old` };
    h = await startHarness(before);
    // Stored while no loop ran (the service stopped right after), then the URL was changed.
    await postLineRaw(h, lineBody([lineText('x', 'Umoved')])).expect(200);
    const after = { ...before, LINE_FORWARD_URLS: `${current.url}/new` };
    running = await startDelivery(h, after);
    const dead = await h.store.listDeadLetters();
    expect(dead).toEqual([
      expect.objectContaining({
        type: 'forward',
        reason: `not sent: its destination http://${new URL(old.url).host}/old is no longer configured (LINE_FORWARD_URLS, FACEBOOK_FORWARD_URLS, WHATSAPP_FORWARD_URLS, or a channel's forward_urls)`,
      }),
    ]);
    expect((await h.store.status(Date.now())).forwards).toMatchObject({ pending: 0, dead: 1 });
    expect(h.logs.parsed().some((l) => l.message === 'forwards to a destination no longer configured kept as dead letters' && l.count === 1)).toBe(true);
    expect([old.received.length, current.received.length]).toEqual([0, 0]);
    // dead-letters retry queues it again; with the URL still not configured, the next start keeps it again.
    await h.store.retryDeadLetters('all', Date.now());
    await running.stop();
    running = await startDelivery(h, after);
    expect(await h.store.listDeadLetters()).toMatchObject([{ type: 'forward' }]);
  });

  it('gives up FORWARD_GIVE_UP_MS after receipt', async () => {
    const { h, running } = await setup(1, { FORWARD_GIVE_UP_MS: '300' });
    downstreams[0]!.answer(() => ({ status: 503 }));
    await postLineRaw(h, lineBody([lineText('x', 'Ugive')])).expect(200);
    const [dead] = await running.waitForForwards(1, (o) => o.outcome === 'dead');
    expect(dead?.reason).toMatch(/FORWARD_GIVE_UP_MS/);
    const status = await h.store.status(Date.now());
    expect(status.forwards).toMatchObject({ dead: 1, pending: 0 });
  });
});

describeEachEngine('forwarding webhooks whose ordering key is a long recipient', (on) => {
  let h: Harness | undefined;
  let running: RunningDelivery | undefined;
  let downstream: Downstream | undefined;

  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await h?.cleanup();
    h = undefined;
    await downstream?.close();
    downstream = undefined;
  });

  it('stores and forwards them in order per key, a failing one holding only its own key', async () => {
    downstream = await Downstream.start();
    const env = { LINE_CHANNEL_SECRET: LINE_SECRET, FACEBOOK_APP_SECRET: META_SECRET, LINE_FORWARD_URLS: `${downstream.url}/line`, FACEBOOK_FORWARD_URLS: `${downstream.url}/meta`, RETRY_MIN_MS: '20', RETRY_MAX_MS: '100' };
    h = await startHarness(env, undefined, on);
    running = await startDelivery(h, env);
    // Group events without a user: the key is the recipient, LINE's `destination`, here 6 KB that do not compress.
    const destination = `U${crypto.randomBytes(4500).toString('base64')}`;
    const group = (text: string) => lineBody([lineText(text, 'unused', { source: { type: 'group', groupId: 'Cgroup' } })], destination);
    let failFirst = true;
    downstream.answer((r) => ({ status: failFirst && r.raw.includes('"first"') ? 500 : 200 }));
    const post = (raw: string) => request(h!.app).post('/webhooks/line').set('content-type', 'application/json').set('x-line-signature', signLine(raw, LINE_SECRET)).send(raw);
    await post(group('first')).expect(200, {});
    await post(group('second')).expect(200, {});
    await post(lineBody([lineText('other', 'Uother')], destination)).expect(200, {});
    // A Meta object no platform reads, named by 6 KB: its key is that name.
    const object = crypto.randomBytes(4500).toString('base64');
    const meta = JSON.stringify({ object, entry: [] });
    await request(h.app).post('/webhooks/facebook').set('content-type', 'application/json').set('x-hub-signature-256', signMeta(meta, META_SECRET)).send(meta).expect(200, {});

    await downstream.waitFor(() => ['"Uother"', object].every((s) => downstream!.delivered.some((r) => r.raw.includes(s))));
    await running.waitForForwards(2, (o) => o.outcome === 'retry');
    expect(downstream.received.filter((r) => r.raw.includes('"second"'))).toHaveLength(0);
    failFirst = false;
    await downstream.waitFor(() => downstream!.delivered.some((r) => r.raw.includes('"second"')));
    const texts = downstream.delivered.filter((r) => r.path === '/line').map((r) => (JSON.parse(r.raw.toString()) as { events: { message: { text: string } }[] }).events[0]!.message.text);
    expect(texts.filter((t) => t !== 'other')).toEqual(['first', 'second']);
  });
});
