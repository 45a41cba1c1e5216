import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { createApp, type App } from '../../src/app';
import { loadConfig } from '../../src/config';
import { lineBody, lineText, startHarness, tempDir, type Harness } from '../helpers/app-harness';
import { startDelivery, type RunningDelivery } from '../helpers/delivery-harness';
import { describeEachEngine } from '../helpers/engines';
import { startFakeBotbonnie, type FakeBotbonnie } from '../helpers/fake-botbonnie';
import { signLine } from '../helpers/signatures';

/*
 * CONTRACT "Order": the desired-state key is the person as the provider identifies them —
 * BotBonnie by `bot_channel`, `bot_pid` and `bot_raw_uid`. With an account's `line_pid`,
 * every LINE destination is sent that one `bot_pid`: two LINE channels (two destinations)
 * tagging into one such account are one person, so an older event through the other
 * channel changes nothing. End to end with the app, each real store engine, the real
 * delivery loops and a loopback fake BotBonnie; the twin of channels-person-key.test.ts.
 */

const SECRETS = { L1_SECRET: 'line-1-channel-secret', L2_SECRET: 'line-2-channel-secret' };
const DEST = { l1: 'Udest1000000000000000000000000001', l2: 'Udest2000000000000000000000000002' };
const PID = '@shared';
const LINE = 1; // bot_channel

const RULES = {
  'rules.yaml': `defaults: { provider: botbonnie }
rules:
  - id: addx
    when: { text: { equals: addx } }
    then: [{ add_tag: tag-x }]
  - id: rmx
    when: { text: { equals: rmx } }
    then: [{ remove_tag: tag-x }]
`,
};

function channelsFile(baseUrl: string, linePid: string | undefined): string {
  return `accounts:
  bb:
    provider: botbonnie
    token: \${BB_TOKEN}
    base_url: ${baseUrl}
${linePid !== undefined ? `    line_pid: "${linePid}"\n` : ''}channels:
  - id: l1
    platform: line
    secret: \${L1_SECRET}
    accounts: [bb]
  - id: l2
    platform: line
    secret: \${L2_SECRET}
    accounts: [bb]
`;
}

describeEachEngine('two LINE channels into one BotBonnie account with line_pid: one person, one desired state', (on) => {
  let dir: string;
  let file: string;
  let botbonnie: FakeBotbonnie;
  let h: Harness;
  let app: App;
  let running: RunningDelivery | undefined;
  let env: Record<string, string>;

  const postLine = (channel: 'l1' | 'l2', text: string, userId: string, timestamp: number) => {
    const body = lineBody([lineText(text, userId, { timestamp })], DEST[channel]);
    const secret = channel === 'l1' ? SECRETS.L1_SECRET : SECRETS.L2_SECRET;
    return request(app).post(`/webhooks/line/${channel}`).set('content-type', 'application/json').set('x-line-signature', signLine(body, secret)).send(body).expect(200);
  };
  const callsFor = (userId: string) =>
    botbonnie.requests
      .filter((r) => r.path === '/v1/api/user/tag' && (r.body as { bot_raw_uid?: string } | undefined)?.bot_raw_uid === userId)
      .map((r) => [r.method, (r.body as { bot_pid: string }).bot_pid]);

  const start = async (linePid: string | undefined) => {
    dir = tempDir('autotag-bbpid-');
    file = path.join(dir, 'channels.yaml');
    fs.writeFileSync(file, channelsFile(botbonnie.baseUrl, linePid));
    env = { ...SECRETS, BB_TOKEN: botbonnie.token, CHANNELS_FILE: file, RETRY_MIN_MS: '20', RETRY_MAX_MS: '200' };
    h = await startHarness(env, RULES, on);
    app = h.app;
    running = await startDelivery(h, env);
  };
  /** As a restart with the pid set in the channels file would: the same store, a new app and new delivery loops. */
  const restartWithPid = async (linePid: string) => {
    await running?.stop();
    fs.writeFileSync(file, channelsFile(botbonnie.baseUrl, linePid));
    const config = loadConfig({ DATA_DIR: h.dataDir, RULES_DIR: h.config.rulesDir, ...env });
    app = createApp({ config, log: h.log, metrics: h.metrics, store: h.store, rules: { current: () => h.ruleSet } });
    running = await startDelivery(h, env);
  };

  beforeEach(async () => {
    botbonnie = await startFakeBotbonnie();
  });
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await h.cleanup();
    await botbonnie.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('an older event of the same user through the other channel sends nothing and is recorded as superseded', async () => {
    await start(PID);
    const t = Date.now() - 10_000;
    await postLine('l1', 'addx', 'USAME', t - 60_000);
    await running!.waitForOutcomes(1, (o) => o.outcome === 'applied');
    await postLine('l1', 'rmx', 'USAME', t);
    await running!.waitForOutcomes(2, (o) => o.outcome === 'applied');
    expect(botbonnie.userTagsOf(PID, LINE, 'USAME')).toEqual([]);

    await postLine('l2', 'addx', 'USAME', t - 5000);
    // Another user's tag in the same account, asked for after it: once it is applied, the
    // older event's add would have been claimed too, had it been queued.
    await postLine('l2', 'addx', 'UOTHER', t);
    await running!.waitForOutcomes(3, (o) => o.outcome === 'applied');

    expect(botbonnie.userTagsOf(PID, LINE, 'USAME')).toEqual([]);
    expect(callsFor('USAME')).toEqual([
      ['POST', PID],
      ['DELETE', PID],
    ]);
    expect(botbonnie.userTagsOf(PID, LINE, 'UOTHER')).toEqual(['tag-x']);
    const { calls } = await h.store.userHistory('USAME');
    expect(calls.map((c) => [c.operation.action, c.operation.channel, c.outcome, c.cause ?? null])).toEqual([
      ['add', 'l1', 'applied', null],
      ['remove', 'l1', 'applied', null],
      ['add', 'l2', 'superseded', 'older_event'],
    ]);
    expect(await h.store.nextDueAt('operations')).toBeNull();
  });

  it('a newer event through the other channel is applied, in the same row', async () => {
    await start(PID);
    const t = Date.now() - 10_000;
    await postLine('l1', 'rmx', 'USAME', t - 60_000);
    await running!.waitForOutcomes(1, (o) => o.outcome === 'applied');
    await postLine('l2', 'addx', 'USAME', t);
    await running!.waitForOutcomes(2, (o) => o.outcome === 'applied');
    expect(botbonnie.userTagsOf(PID, LINE, 'USAME')).toEqual(['tag-x']);
    const { calls } = await h.store.userHistory('USAME');
    expect(calls.map((c) => [c.operation.action, c.operation.recipient, c.version])).toEqual([
      ['remove', DEST.l1, 1],
      ['add', DEST.l2, 2],
    ]);
  });

  it('rows written before line_pid was set are re-keyed to it at the next start: the newest stays', async () => {
    await start(undefined);
    const t = Date.now() - 10_000;
    // Without the pid, each destination is its own BotBonnie person.
    await postLine('l2', 'addx', 'USAME', t - 60_000);
    await postLine('l1', 'rmx', 'USAME', t);
    await running!.waitForOutcomes(2, (o) => o.outcome === 'applied');
    expect(callsFor('USAME').sort()).toEqual([
      ['DELETE', DEST.l1],
      ['POST', DEST.l2],
    ]);

    await restartWithPid(PID);
    expect(h.logs.parsed().filter((l) => l.message === 're-keyed desired state to the person the account now names')).toEqual([
      expect.objectContaining({ account: 'bb', platform: 'line', person: PID, rekeyed: 1, merged: 1 }),
    ]);

    // Older than the remove that now holds the person's one row: superseded, nothing sent.
    await postLine('l2', 'addx', 'USAME', t - 5000);
    await postLine('l2', 'addx', 'UOTHER', t);
    await running!.waitForOutcomes(1, (o) => o.outcome === 'applied');
    expect(callsFor('USAME')).toHaveLength(2);
    expect(botbonnie.userTagsOf(PID, LINE, 'UOTHER')).toEqual(['tag-x']);
    const { calls } = await h.store.userHistory('USAME');
    expect(calls.at(-1)).toMatchObject({ operation: { action: 'add', channel: 'l2' }, outcome: 'superseded', cause: 'older_event' });
    expect(await h.store.nextDueAt('operations')).toBeNull();
  });
});
