import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createAccountRouter } from '../../../src/channels/account-router';
import { ConfigError, loadConfig, secretsOf } from '../../../src/config';
import { NO_ACCOUNT } from '../../../src/tag-operation';

const FILE = `accounts:
  brand-a:
    provider: mantago
    bot_id: "1234"
    token: \${A_TOKEN}
    secret: \${A_SECRET}
  brand-b:
    provider: botbonnie
    token: \${B_TOKEN}
channels:
  - id: brand-a-line
    platform: line
    secret: \${A_LINE_SECRET}
    destination: Ubrand-a
    accounts: brand-a
  - id: brand-b-meta
    platform: meta
    app_secret: \${B_APP_SECRET}
    verify_token: \${B_VERIFY}
    accounts: [brand-b]
    forward_urls: [https://fw.example/b]
`;
const ENV = { A_TOKEN: 'a-token-value', A_SECRET: 'a-secret-value', B_TOKEN: 'b-token-value', A_LINE_SECRET: 'a-line-secret', B_APP_SECRET: 'b-app-secret', B_VERIFY: 'b-verify-token' };

describe('the channels file in the configuration', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autotag-channels-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads ./channels.yaml when it exists: its channels become endpoints beside the environment\'s, its accounts beside the environment\'s', () => {
    fs.writeFileSync(path.join(dir, 'channels.yaml'), FILE);
    const c = loadConfig({ ...ENV, LINE_CHANNEL_SECRET: 'env-line-secret' }, { cwd: dir });
    expect(c.endpoints.map((e) => [e.definition.channel, e.definition.path, e.source])).toEqual([
      ['line', '/webhooks/line', 'environment'],
      ['facebook', '/webhooks/facebook', 'environment'],
      ['whatsapp', '/webhooks/whatsapp', 'environment'],
      ['brand-a-line', '/webhooks/line/brand-a-line', 'file'],
      ['brand-b-meta', '/webhooks/meta/brand-b-meta', 'file'],
    ]);
    const [, , , a, b] = c.endpoints;
    expect(a).toMatchObject({ secret: 'a-line-secret', routingKey: 'Ubrand-a', forwardUrls: [] });
    expect([...a!.accounts]).toEqual([['mantago', 'brand-a']]);
    expect(b).toMatchObject({ secret: 'b-app-secret', verifyToken: 'b-verify-token', forwardUrls: ['https://fw.example/b'] });
    expect(b!.definition.verifyToken).toEqual(['B_VERIFY']);
    expect(c.accounts.map((x) => [x.name, x.provider.name, x.source, x.configured])).toEqual([
      ['mantago', 'mantago', 'environment', false],
      ['botbonnie', 'botbonnie', 'environment', false],
      ['brand-a', 'mantago', 'file', true],
      ['brand-b', 'botbonnie', 'file', true],
    ]);
    expect(c.accounts[2]!.settings).toEqual({ baseUrl: 'https://mantago.cc/api', botId: '1234', token: 'a-token-value', secret: 'a-secret-value', pairSource: 'A_TOKEN and A_SECRET' });
    expect(c.channelsFile?.file).toBe('channels.yaml');
    // Every secret of the file is redacted from logs.
    expect(secretsOf(c)).toEqual(expect.arrayContaining(['a-token-value', 'a-secret-value', 'b-token-value', 'a-line-secret', 'b-app-secret', 'b-verify-token', 'env-line-secret']));
  });

  it('routes an action to the account it names, else the channel\'s, else the environment\'s, else none', () => {
    fs.writeFileSync(path.join(dir, 'channels.yaml'), FILE);
    const withoutEnv = loadConfig(ENV, { cwd: dir });
    const r = createAccountRouter(withoutEnv.endpoints, withoutEnv.accounts);
    expect(r.accountFor({ provider: 'mantago' }, 'brand-a-line')).toBe('brand-a');
    expect(r.accountFor({ provider: 'mantago', account: 'brand-x' }, 'brand-a-line')).toBe('brand-x');
    // brand-b-meta has no MantaGo account and the environment's has no token: none (a dead letter until one exists).
    expect(r.accountFor({ provider: 'mantago' }, 'brand-b-meta')).toBe(NO_ACCOUNT);
    // The environment's channels can only ever use the environment's account: kept there until its token is set.
    expect(r.accountFor({ provider: 'mantago' }, 'line')).toBe('mantago');

    const withEnv = loadConfig({ ...ENV, MANTAGO_TOKEN: 't', MANTAGO_BOT_ID: 'b', MANTAGO_SECRET: 's' }, { cwd: dir });
    const r2 = createAccountRouter(withEnv.endpoints, withEnv.accounts);
    expect(r2.accountFor({ provider: 'mantago' }, 'brand-b-meta')).toBe('mantago');
    expect(r2.accountFor({ provider: 'botbonnie' }, 'brand-b-meta')).toBe('brand-b');
  });

  it('stops with every problem of the file at FILE:LINE:COLUMN, beside the variables\' problems', () => {
    fs.writeFileSync(path.join(dir, 'brands.yaml'), FILE.replace('accounts: brand-a', 'accounts: brand-c'));
    let error: unknown;
    try {
      loadConfig({ ...ENV, A_LINE_SECRET: '', PORT: 'x', CHANNELS_FILE: 'brands.yaml' }, { cwd: dir });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      expect.stringMatching(/^PORT: /),
      'brands.yaml:13:13: A_LINE_SECRET is not set (the secret of channel brand-a-line is ${A_LINE_SECRET})',
      'brands.yaml:15:15: unknown account "brand-c"; did you mean "brand-a"?',
    ]);
  });

  it('takes unset variables as warnings where asked (commands that need no secrets)', () => {
    fs.writeFileSync(path.join(dir, 'channels.yaml'), FILE);
    const c = loadConfig({ ...ENV, B_TOKEN: '' }, { cwd: dir, unsetVariables: 'warning' });
    expect(c.warnings).toEqual(['channels.yaml:9:12: B_TOKEN is not set (the token of account brand-b is ${B_TOKEN})']);
    expect(c.accounts.find((a) => a.name === 'brand-b')?.configured).toBe(false);
  });

  it('names CHANNELS_FILE when the file it names cannot be read; no ./channels.yaml is no channels file', () => {
    expect(() => loadConfig({ CHANNELS_FILE: 'missing.yaml' }, { cwd: dir })).toThrow('missing.yaml:1:1: cannot read the channels file (CHANNELS_FILE): no such file');
    const c = loadConfig({}, { cwd: dir });
    expect(c.channelsFile).toBeUndefined();
    expect(c.endpoints.map((e) => e.definition.channel)).toEqual(['line', 'facebook', 'whatsapp']);
  });
});
