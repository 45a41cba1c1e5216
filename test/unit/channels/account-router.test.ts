import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createAccountRouter } from '../../../src/channels/account-router';
import { loadConfig } from '../../../src/config';
import { NO_ACCOUNT } from '../../../src/tag-operation';

/*
 * CONTRACT "Order": BotBonnie goes by the `bot_pid` it is sent. For LINE users that is
 * the account's LINE pid when it sets one (`line_pid`, BOTBONNIE_LINE_PID), so desired
 * state is keyed by it; the router says which person an operation's account names.
 */

const FILE = `accounts:
  bb-pid:
    provider: botbonnie
    token: \${BB_TOKEN}
    line_pid: "@shared"
  bb-plain:
    provider: botbonnie
    token: \${BB_TOKEN}
  mg:
    provider: mantago
    bot_id: "1234"
    token: \${MG_TOKEN}
    secret: \${MG_SECRET}
channels:
  - id: l1
    platform: line
    secret: \${L1_SECRET}
    accounts: [bb-pid, mg]
`;
const ENV = { BB_TOKEN: 'bb-token', MG_TOKEN: 'mg-token', MG_SECRET: 'mg-secret', L1_SECRET: 'l1-secret' };

describe('AccountRouter.personOf', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autotag-router-'));
    fs.writeFileSync(path.join(dir, 'channels.yaml'), FILE);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const router = (env: Record<string, string> = {}) => {
    const c = loadConfig({ ...ENV, ...env }, { cwd: dir });
    return createAccountRouter(c.endpoints, c.accounts);
  };

  it("is a BotBonnie account's line_pid for its LINE users, and nothing for its Facebook users", () => {
    const r = router();
    expect(r.personOf({ account: 'bb-pid', provider: 'botbonnie', platform: 'line' })).toBe('@shared');
    expect(r.personOf({ account: 'bb-pid', provider: 'botbonnie', platform: 'facebook' })).toBeUndefined();
  });

  it('is nothing for an account without a pid, for MantaGo, for an unknown account, and for no account', () => {
    const r = router();
    expect(r.personOf({ account: 'bb-plain', provider: 'botbonnie', platform: 'line' })).toBeUndefined();
    expect(r.personOf({ account: 'mg', provider: 'mantago', platform: 'line' })).toBeUndefined();
    expect(r.personOf({ account: 'brand-x', provider: 'botbonnie', platform: 'line' })).toBeUndefined();
    expect(r.personOf({ account: NO_ACCOUNT, provider: 'botbonnie', platform: 'line' })).toBeUndefined();
    // An account's name given with another provider is not that account's person.
    expect(r.personOf({ account: 'bb-pid', provider: 'mantago', platform: 'line' })).toBeUndefined();
  });

  it("is BOTBONNIE_LINE_PID for the environment's account, set or not", () => {
    expect(router({ BOTBONNIE_TOKEN: 'env-bb-token', BOTBONNIE_LINE_PID: '@env-pid' }).personOf({ account: 'botbonnie', provider: 'botbonnie', platform: 'line' })).toBe('@env-pid');
    expect(router().personOf({ account: 'botbonnie', provider: 'botbonnie', platform: 'line' })).toBeUndefined();
  });
});
