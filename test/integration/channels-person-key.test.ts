import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { lineBody, lineText, startHarness, tempDir, type Harness } from '../helpers/app-harness';
import { startDelivery, type RunningDelivery } from '../helpers/delivery-harness';
import { describeEachEngine } from '../helpers/engines';
import { startFakeMantago, type FakeMantago } from '../helpers/fake-tag-api';
import { signLine } from '../helpers/signatures';

/*
 * CONTRACT "Order": the desired-state key is the person as the provider identifies them
 * — MantaGo by platform and platformClientId — not whom they wrote to. Two LINE channels
 * (two destinations) tag into one MantaGo account: an older event of the same user through
 * the other channel changes nothing, end to end with the app, each real store engine, the
 * real delivery loops and a loopback fake MantaGo.
 */

const SECRETS = { LA_SECRET: 'line-a-channel-secret', LB_SECRET: 'line-b-channel-secret' };
const DEST = { a: 'UdestA00000000000000000000000000a', b: 'UdestB00000000000000000000000000b' };

const RULES = {
  'rules.yaml': `defaults: { provider: mantago }
rules:
  - id: addx
    when: { text: { equals: addx } }
    then: [{ add_tag: tag-x }]
  - id: rmx
    when: { text: { equals: rmx } }
    then: [{ remove_tag: tag-x }]
`,
};

describeEachEngine('two LINE channels into one MantaGo account: one person, one desired state', (on) => {
  let dir: string;
  let mantago: FakeMantago;
  let h: Harness;
  let running: RunningDelivery | undefined;
  let env: Record<string, string>;

  const postLine = (channel: 'la' | 'lb', text: string, userId: string, timestamp: number) => {
    const body = lineBody([lineText(text, userId, { timestamp })], channel === 'la' ? DEST.a : DEST.b);
    const secret = channel === 'la' ? SECRETS.LA_SECRET : SECRETS.LB_SECRET;
    return request(h.app).post(`/webhooks/line/${channel}`).set('content-type', 'application/json').set('x-line-signature', signLine(body, secret)).send(body).expect(200);
  };
  const callsFor = (userId: string) =>
    mantago.tagRequests.filter((r) => (r.body as { platformClientId: string }).platformClientId === userId).map((r) => r.path.replace(/.*\//, ''));

  beforeEach(async () => {
    dir = tempDir('autotag-person-');
    mantago = await startFakeMantago({ botId: 'bot-a' });
    const file = path.join(dir, 'channels.yaml');
    fs.writeFileSync(
      file,
      `accounts:
  acc-a:
    provider: mantago
    bot_id: ${mantago.botId}
    token: \${A_TOKEN}
    secret: \${A_SECRET}
    base_url: ${mantago.baseUrl}
channels:
  - id: la
    platform: line
    secret: \${LA_SECRET}
    accounts: [acc-a]
  - id: lb
    platform: line
    secret: \${LB_SECRET}
    accounts: [acc-a]
`,
    );
    env = { ...SECRETS, A_TOKEN: mantago.token, A_SECRET: mantago.secret, CHANNELS_FILE: file, RETRY_MIN_MS: '20', RETRY_MAX_MS: '200' };
    h = await startHarness(env, RULES, on);
    running = await startDelivery(h, env);
  });
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await h.cleanup();
    await mantago.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('an older event of the same user through the other channel sends nothing and is recorded as superseded', async () => {
    await postLine('lb', 'addx', 'USAME', Date.now() - 120_000);
    await running!.waitForOutcomes(1, (o) => o.outcome === 'applied');
    await postLine('lb', 'rmx', 'USAME', Date.now() - 1_000);
    await running!.waitForOutcomes(2, (o) => o.outcome === 'applied');
    expect(mantago.personalTagsOf('line', 'USAME')).toEqual([]);

    await postLine('la', 'addx', 'USAME', Date.now() - 60_000);
    // Another user's tag in the same account, asked for after it: once it is applied, the
    // older event's add would have been claimed too, had it been queued.
    await postLine('la', 'addx', 'UOTHER', Date.now() - 1_000);
    await running!.waitForOutcomes(3, (o) => o.outcome === 'applied');

    expect(mantago.personalTagsOf('line', 'USAME')).toEqual([]);
    expect(callsFor('USAME')).toHaveLength(2);
    expect(mantago.personalTagsOf('line', 'UOTHER')).toEqual(['tag-x']);
    const { calls } = await h.store.userHistory('USAME');
    expect(calls.map((c) => [c.operation.action, c.operation.channel, c.outcome, c.cause ?? null])).toEqual([
      ['add', 'lb', 'applied', null],
      ['remove', 'lb', 'applied', null],
      ['add', 'la', 'superseded', 'older_event'],
    ]);
    // Nothing left to do.
    expect(await h.store.nextDueAt('operations')).toBeNull();
  });

  it('a newer event through the other channel is applied, in the same row', async () => {
    await postLine('lb', 'rmx', 'USAME', Date.now() - 60_000);
    await running!.waitForOutcomes(1, (o) => o.outcome === 'applied');
    await postLine('la', 'addx', 'USAME', Date.now() - 1_000);
    await running!.waitForOutcomes(2, (o) => o.outcome === 'applied');
    expect(mantago.personalTagsOf('line', 'USAME')).toEqual(['tag-x']);
    const { calls } = await h.store.userHistory('USAME');
    expect(calls.map((c) => [c.operation.action, c.operation.recipient, c.version])).toEqual([
      ['remove', DEST.b, 1],
      ['add', DEST.a, 2],
    ]);
  });
});
