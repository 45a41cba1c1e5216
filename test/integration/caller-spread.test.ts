import fs from 'node:fs';
import path from 'node:path';
import { lineBody, lineText, tempDir } from '../helpers/app-harness';
import { startFakeMantago, type FakeMantago, type RecordedRequest } from '../helpers/fake-tag-api';
import { describePostgres, dropSchema, newSchemaName } from '../helpers/pg-schema';
import { FAST_DELIVERY_ENV, startService, type ServiceProcess } from '../helpers/service-process';
import { signLine } from '../helpers/signatures';

/*
 * README "One caller per provider account": with several accounts the caller roles spread over
 * the instances. Real `serve` processes on the real PostgreSQL, a channels file with two MantaGo
 * accounts (one loopback fake each). Instance A calls the fakes at their root, instance B under
 * `/api` (its channels file says so; the fakes answer both), so every call says which made it.
 */

const ACCOUNTS = ['brand-a', 'brand-b'] as const;
type Account = (typeof ACCOUNTS)[number];
const LINE_SECRET: Record<Account, string> = { 'brand-a': 'spread-brand-a-line-secret', 'brand-b': 'spread-brand-b-line-secret' };
const TAKEN = 'this instance is the caller of a provider account now (the other instances leave its calls to it)';
const GAVE_UP = 'this instance gives up the caller role of a provider account: it holds more than its share (an instance below its share takes it)';
const USERS = 20;
/** The channels file takes secrets from the environment only: BRAND_A_TOKEN… */
const envName = (account: Account) => account.toUpperCase().replace('-', '_');

describePostgres('caller roles spread over the instances (PostgreSQL, real processes)', (url) => {
  let dir: string;
  let schema: string;
  const fakes = {} as Record<Account, FakeMantago>;
  const services: ServiceProcess[] = [];

  beforeEach(async () => {
    for (const a of ACCOUNTS) fakes[a] = await startFakeMantago({ botId: `bot-${a}`, latencyMs: 20 });
    dir = tempDir('autotag-caller-spread-');
    fs.mkdirSync(path.join(dir, 'rules'));
    fs.writeFileSync(path.join(dir, 'rules', 'rules.yaml'), 'defaults: { provider: mantago }\nrules:\n  - id: coupon\n    when: { text: { contains: coupon } }\n    then: [{ add_tag: tag-coupon }]\n');
    for (const which of ['A', 'B'] as const) fs.writeFileSync(path.join(dir, `channels-${which}.yaml`), channelsFile(which));
    schema = newSchemaName('autotag_spread');
  });
  afterEach(async () => {
    for (const s of services) s.kill('SIGKILL');
    await Promise.all(services.map((s) => s.exited));
    services.length = 0;
    await Promise.all(ACCOUNTS.map((a) => fakes[a].close()));
    fs.rmSync(dir, { recursive: true, force: true });
    await dropSchema(url, schema);
  });

  /** The same accounts and channels on both instances; A calls the fakes at their root, B under /api. */
  function channelsFile(which: 'A' | 'B'): string {
    const accounts = ACCOUNTS.map(
      (a) => `  ${a}:\n    provider: mantago\n    bot_id: ${fakes[a].botId}\n    token: \${${envName(a)}_TOKEN}\n    secret: \${${envName(a)}_SECRET}\n    base_url: ${which === 'A' ? fakes[a].url : fakes[a].baseUrl}\n`,
    );
    const channels = ACCOUNTS.map((a) => `  - id: ${a}-line\n    platform: line\n    secret: \${${envName(a)}_LINE_SECRET}\n    accounts: [${a}]\n`);
    return `accounts:\n${accounts.join('')}channels:\n${channels.join('')}`;
  }
  const start = async (which: 'A' | 'B') => {
    const secrets = ACCOUNTS.flatMap((a) => [
      [`${envName(a)}_TOKEN`, fakes[a].token],
      [`${envName(a)}_SECRET`, fakes[a].secret],
      [`${envName(a)}_LINE_SECRET`, LINE_SECRET[a]],
    ]);
    const s = await startService({
      ...Object.fromEntries(secrets),
      DATABASE_URL: url,
      DATABASE_SCHEMA: schema,
      RULES_DIR: path.join(dir, 'rules'),
      CHANNELS_FILE: path.join(dir, `channels-${which}.yaml`),
      ...FAST_DELIVERY_ENV,
    });
    services.push(s);
    return s;
  };
  const callerOf = (r: RecordedRequest): 'A' | 'B' => (r.path.startsWith('/api/') ? 'B' : 'A');
  const taken = (s: ServiceProcess, account: Account) => s.logs.some((l) => l.message === TAKEN && l.account === account);
  async function post(s: ServiceProcess, account: Account, user: string): Promise<number> {
    const body = lineBody([lineText('coupon', user)]);
    const res = await fetch(`${s.url}/webhooks/line/${account}-line`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-line-signature': signLine(body, LINE_SECRET[account]) }, body });
    await res.arrayBuffer();
    return res.status;
  }

  it('two instances, two accounts: the instance started first takes both roles, gives one up once the second runs, and each then calls one account', async () => {
    const a = await start('A');
    await a.waitForLog((l) => l.message === TAKEN && l.account === ACCOUNTS[0], 10_000);
    await a.waitForLog((l) => l.message === TAKEN && l.account === ACCOUNTS[1], 10_000);
    const b = await start('B');
    const joinedAt = Date.now();
    // B is below its share (ceil(2 accounts / 2 instances) = 1), A above it: A gives one up, B takes it.
    const tookB = await b.waitForLog((l) => l.message === TAKEN, 20_000);
    const spreadMs = Date.now() - joinedAt;
    if (process.env.CALLER_PRINT) console.log(`two instances, two accounts: spread ${spreadMs} ms after the second started`);
    const ofB = tookB.account as Account;
    const ofA = ACCOUNTS.find((x) => x !== ofB)!;
    expect(a.logs.filter((l) => l.message === GAVE_UP).map((l) => l.account)).toEqual([ofB]);
    expect(taken(b, ofA)).toBe(false);

    // Webhooks of both brands to both instances: each account is called by its own instance only.
    const since = Date.now();
    const users = Array.from({ length: USERS }, (_, i) => `Uspread${String(i).padStart(3, '0')}`);
    const statuses = await Promise.all(users.flatMap((u, i) => ACCOUNTS.map((acc) => post(i % 2 === 0 ? a : b, acc, u))));
    expect(statuses.every((st) => st === 200)).toBe(true);
    await Promise.all(
      ACCOUNTS.map((acc) => fakes[acc].api.waitFor(() => users.every((u) => fakes[acc].personalTagsOf('line', u).includes('tag-coupon')), 30_000)),
    );
    const callers = (acc: Account) => [...new Set(fakes[acc].tagRequests.filter((r) => r.receivedAt >= since).map(callerOf))];
    expect({ [ofA]: callers(ofA), [ofB]: callers(ofB) }).toEqual({ [ofA]: ['A'], [ofB]: ['B'] });
    // The assignment stayed put meanwhile.
    expect([...a.logs, ...b.logs].filter((l) => l.message === GAVE_UP)).toHaveLength(1);
    expect(ACCOUNTS.map((acc) => fakes[acc].api.overlaps)).toEqual([[], []]);
  }, 90_000);
});
