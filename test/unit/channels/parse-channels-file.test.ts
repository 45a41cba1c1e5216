import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadChannelsFile } from '../../../src/channels/load-channels';
import { parseChannelsFile } from '../../../src/channels/parse-channels-file';
import { formatProblem } from '../../../src/rules';

/** The contract's example (CONTRACT.md, "Several channels in one instance"). */
const CONTRACT_EXAMPLE = `accounts:
  brand-a:
    provider: mantago
    bot_id: "1234"
    token: \${BRAND_A_MANTAGO_TOKEN}
    secret: \${BRAND_A_MANTAGO_SECRET}
    base_url: https://mantago.cc/api
  brand-b:
    provider: botbonnie
    token: \${BRAND_B_BOTBONNIE_TOKEN}
    bot_id: bot-xxxxxxxx
    line_pid: "@brandb"
    base_url: https://api.botbonnie.com
channels:
  - id: brand-a-line
    platform: line
    secret: \${BRAND_A_LINE_SECRET}
    destination: U4af4980629f8aa7e3e4f1d9ad4cbd0a5
    accounts: [brand-a]
    forward_urls: [https://bot.example.com/webhooks/line]
  - id: brand-b-meta
    platform: meta
    app_secret: \${BRAND_B_APP_SECRET}
    verify_token: \${BRAND_B_VERIFY_TOKEN}
    accounts: [brand-b, brand-a]
`;

const ENV = {
  BRAND_A_MANTAGO_TOKEN: 'tok-a',
  BRAND_A_MANTAGO_SECRET: 'sec-a',
  BRAND_B_BOTBONNIE_TOKEN: 'tok-b',
  BRAND_A_LINE_SECRET: 'line-secret-a',
  BRAND_B_APP_SECRET: 'app-secret-b',
  BRAND_B_VERIFY_TOKEN: 'verify-b',
};

const problems = (text: string, env: NodeJS.ProcessEnv = ENV) => parseChannelsFile(text, 'channels.yaml', env, 'error').problems.map(formatProblem);

describe('the channels file', () => {
  it("reads the contract's example, with every variable substituted", () => {
    const r = parseChannelsFile(CONTRACT_EXAMPLE, 'channels.yaml', ENV, 'error');
    expect(r.problems).toEqual([]);
    expect(r.warnings).toEqual([]);
    const file = r.channels!;
    expect(file.accounts.map((a) => [a.name, a.provider, a.account.values])).toEqual([
      ['brand-a', 'mantago', { bot_id: '1234', token: 'tok-a', secret: 'sec-a', base_url: 'https://mantago.cc/api' }],
      ['brand-b', 'botbonnie', { token: 'tok-b', bot_id: 'bot-xxxxxxxx', line_pid: '@brandb', base_url: 'https://api.botbonnie.com' }],
    ]);
    expect(file.accounts[0]!.account.variables).toMatchObject({ token: 'BRAND_A_MANTAGO_TOKEN', secret: 'BRAND_A_MANTAGO_SECRET' });
    const [line, meta] = file.channels;
    expect(line).toMatchObject({
      id: 'brand-a-line',
      secret: 'line-secret-a',
      secretVariable: 'BRAND_A_LINE_SECRET',
      destination: 'U4af4980629f8aa7e3e4f1d9ad4cbd0a5',
      accounts: ['brand-a'],
      forwardUrls: ['https://bot.example.com/webhooks/line'],
      position: { line: 15, column: 9 },
    });
    expect(line!.kind.name).toBe('line');
    expect(meta).toMatchObject({ id: 'brand-b-meta', secret: 'app-secret-b', verifyToken: 'verify-b', verifyTokenVariable: 'BRAND_B_VERIFY_TOKEN', accounts: ['brand-b', 'brand-a'] });
    expect(meta!.kind.name).toBe('meta');
  });

  it('reports every problem at once, each at its FILE:LINE:COLUMN', () => {
    const text = `accounts:
  brand-a:
    provider: mantago
    bot_id: "1"
    tokn: \${A_TOKEN}
    secret: literal-secret
  brand-c:
    provider: mantgo
channels:
  - id: one
    platform: line
    secret: \${LINE_SECRET}
    accounts: [brand-x]
  - id: one
    platform: lien
  - id: line
    platform: meta
    app_secret: \${APP_SECRET}
    verify_token: \${VERIFY}
extra: 1
`;
    expect(problems(text, { LINE_SECRET: 's', APP_SECRET: 'a', VERIFY: 'v' })).toEqual([
      'channels.yaml:3:5: missing required key "token"',
      'channels.yaml:5:5: unknown key "tokn" in a MantaGo account; did you mean "token"?',
      'channels.yaml:6:13: a literal secret is not allowed for "secret" in the channels file: write secret: ${VARIABLE} and set that variable in the environment',
      'channels.yaml:8:15: unknown provider "mantgo"; did you mean "mantago"?',
      'channels.yaml:13:16: unknown account "brand-x"; did you mean "brand-a"?',
      'channels.yaml:15:15: unknown platform "lien"; a channel is line (a LINE channel) or meta (a Meta app: Messenger, Instagram and WhatsApp)',
      'channels.yaml:16:9: channel id "line" is reserved: line, facebook, whatsapp are the environment\'s channels (its /webhooks/… endpoints); choose another id',
      'channels.yaml:20:1: unknown key "extra" in the channels file; expected one of accounts, channels',
    ]);
  });

  it('a key named __proto__ or constructor is an unknown key, and its contents are never applied', () => {
    const text = `accounts:
  brand-a:
    __proto__: { provider: mantago }
    bot_id: "1"
    token: \${T}
    secret: \${S}
channels:
  - id: a
    platform: line
    secret: \${S}
    constructor: x
    __proto__: { platform: meta }
__proto__: { extra: 1 }
`;
    expect(problems(text, { T: 't', S: 's' })).toEqual([
      'channels.yaml:2:3: missing required key "provider": mantago or botbonnie',
      'channels.yaml:11:5: unknown key "constructor" in a LINE channel; expected one of id, platform, secret, destination, accounts, forward_urls',
      'channels.yaml:12:5: unknown key "__proto__" in a LINE channel; expected one of id, platform, secret, destination, accounts, forward_urls',
      'channels.yaml:13:1: unknown key "__proto__" in the channels file; expected one of accounts, channels',
    ]);
  });

  it('names the key of a literal secret, at its value (the message alone said only "a literal secret")', () => {
    const text = `accounts:
  brand-a:
    provider: mantago
    bot_id: "1"
    token: literal-token
    secret: literal-secret
  brand-b:
    provider: botbonnie
    bot_id: b
    token: literal-token
channels:
  - id: shop-line
    platform: line
    secret: literal-line-secret
  - id: shop-meta
    platform: meta
    app_secret: literal-app-secret
    verify_token: literal-verify-token
`;
    const literal = (key: string) => `a literal secret is not allowed for "${key}" in the channels file: write ${key}: \${VARIABLE} and set that variable in the environment`;
    expect(problems(text, {})).toEqual([
      `channels.yaml:5:12: ${literal('token')}`,
      `channels.yaml:6:13: ${literal('secret')}`,
      `channels.yaml:10:12: ${literal('token')}`,
      `channels.yaml:14:13: ${literal('secret')}`,
      `channels.yaml:17:17: ${literal('app_secret')}`,
      `channels.yaml:18:19: ${literal('verify_token')}`,
    ]);
  });

  it('refuses a duplicate channel id at the later one, naming the earlier', () => {
    // In YAML's flow style ({ … }) a ${VARIABLE} must be quoted: "{" would open a map.
    const text = `channels:
  - { id: a, platform: line, secret: "\${S}" }
  - { id: a, platform: line, secret: "\${S}" }
`;
    expect(problems(text, { S: 'x' })).toEqual(['channels.yaml:3:11: duplicate channel id "a": already used at channels.yaml:2:11']);
  });

  it('refuses two accounts of one provider on one channel, and a destination two LINE channels share', () => {
    const text = `accounts:
  m1: { provider: mantago, bot_id: "1", token: "\${T}", secret: "\${S}" }
  m2: { provider: mantago, bot_id: "2", token: "\${T}", secret: "\${S}" }
channels:
  - { id: a, platform: line, secret: "\${S}", destination: Ubot, accounts: [m1, m2] }
  - { id: b, platform: line, secret: "\${S}", destination: Ubot }
`;
    expect(problems(text, { T: 't', S: 's' })).toEqual([
      'channels.yaml:5:80: two MantaGo accounts on one channel: m1 (at channels.yaml:5:76) and m2; a channel has at most one account per provider (a rule may send an action elsewhere with "account:")',
      'channels.yaml:6:59: destination "Ubot" is also the destination of channel a (at channels.yaml:5:59): POST /webhooks/line could not tell them apart',
    ]);
  });

  it('refuses reserved and malformed account names, and names the environment\'s accounts as known', () => {
    const text = `accounts:
  mantago: { provider: mantago, bot_id: "1", token: "\${T}", secret: "\${S}" }
  "bad name": { provider: botbonnie, token: "\${T}" }
channels:
  - { id: a, platform: line, secret: "\${S}", accounts: [botbonnie] }
`;
    expect(problems(text, { T: 't', S: 's' })).toEqual([
      'channels.yaml:2:3: account name "mantago" is reserved: it names the environment\'s account (MANTAGO_TOKEN …); choose another name',
      'channels.yaml:3:3: account name "bad name" holds only letters (a-z, A-Z), digits, "-" and "_"',
    ]);
  });

  it('names an unset variable: an error for serve, a warning for commands that need no secrets', () => {
    const text = `channels:
  - id: a
    platform: line
    secret: \${UNSET_SECRET}
    forward_urls: https://fw.example/\${FW_PATH}
`;
    const strict = parseChannelsFile(text, 'channels.yaml', { FW_PATH: 'x' }, 'error');
    expect(strict.problems.map(formatProblem)).toEqual(['channels.yaml:4:13: UNSET_SECRET is not set (the secret of channel a is ${UNSET_SECRET})']);
    expect(strict.channels).toBeUndefined();

    const lenient = parseChannelsFile(text, 'channels.yaml', { FW_PATH: ' ' }, 'warning');
    expect(lenient.problems).toEqual([]);
    expect(lenient.warnings.map(formatProblem)).toEqual([
      'channels.yaml:4:13: UNSET_SECRET is not set (the secret of channel a is ${UNSET_SECRET})',
      'channels.yaml:5:19: FW_PATH is not set (a forward URL of channel a is ${FW_PATH})',
    ]);
    expect(lenient.channels!.channels[0]).toMatchObject({ id: 'a', secret: undefined, secretVariable: 'UNSET_SECRET', forwardUrls: [] });
  });

  it('checks URLs after substitution', () => {
    const text = `accounts:
  a: { provider: botbonnie, token: "\${T}", base_url: "\${BASE}" }
channels:
  - { id: c, platform: line, secret: "\${T}", forward_urls: [ftp://nope] }
`;
    expect(problems(text, { T: 't', BASE: 'not a url' })).toEqual([
      'channels.yaml:2:54: "not a url" is not an http(s) URL',
      'channels.yaml:4:61: "ftp://nope" is not an http(s) URL',
    ]);
  });

  it('refuses a base_url with a query or a fragment (the API paths appended to it would end up inside them)', () => {
    const text = `accounts:
  a: { provider: botbonnie, token: "\${T}", base_url: "https://api.example/v?x=1" }
  b: { provider: mantago, bot_id: "1", token: "\${T}", secret: "\${T}", base_url: "https://m.example/api#top" }
  c: { provider: mantago, bot_id: "2", token: "\${T}", secret: "\${T}", base_url: "https://m.example/prefix/api/" }
channels:
  - { id: l, platform: line, secret: "\${T}", forward_urls: ["https://bot.example/hook?key=1"] }
`;
    expect(problems(text, { T: 't' })).toEqual([
      'channels.yaml:2:54: "https://api.example/v?x=1": a base URL cannot have a query (?…) or a fragment (#…); the API\'s paths are appended to it',
      'channels.yaml:3:81: "https://m.example/api#top": a base URL cannot have a query (?…) or a fragment (#…); the API\'s paths are appended to it',
    ]);
  });

  it('says `accounts` must be a map of names when it is a single value or a list (it said "must be a single value")', () => {
    expect(problems('accounts: mantago\n')).toContain('channels.yaml:1:11: "accounts" must be a map of names to their settings, not "mantago"');
    expect(problems('accounts: [a, b]\n')).toContain('channels.yaml:1:11: "accounts" must be a map of names to their settings, not a list');
  });

  it('a key without a value in a file that holds a `*` is a problem at its place, not a crash', () => {
    const out = problems('channels:\n  - { id: l, platform: line, secret: "${T}", forward_urls: [{x}] }   # *\n', { T: 't' });
    expect(out.length).toBeGreaterThan(0);
    for (const line of out) expect(line).toMatch(/^channels\.yaml:2:\d+: /);
  });

  it('a channels file not saved as UTF-8 is refused at its first byte that is not', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autotag-channels-encoding-'));
    try {
      const file = path.join(dir, 'channels.yaml');
      fs.writeFileSync(file, Buffer.concat([Buffer.from('accounts: {}\n# '), Buffer.from([0xa7, 0x41]), Buffer.from('\nchannels: []\n')]));
      const loaded = loadChannelsFile({ CHANNELS_FILE: file }, dir, 'error');
      expect(loaded.problems.map(formatProblem)).toEqual([
        'channels.yaml:2:3: the file is not UTF-8 (bytes A7 41 here are not): it was saved in another encoding (Big5, Shift_JIS, a Windows code page?); save it as UTF-8',
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says to quote a ${VARIABLE} written unquoted in flow style, at its "$" (the parser said only "Unexpected flow-map-start")', () => {
    const account = problems('accounts:\n  brand-a: { provider: mantago, bot_id: "1", token: ${MANTAGO_TOKEN}, secret: "${S}" }\n');
    expect(account[0]).toBe(
      'channels.yaml:2:53: YAML syntax error: Unexpected flow-map-start at node end; in flow style ({ } or [ ]) ${MANTAGO_TOKEN} must be quoted, as "{" starts a map there: write token: "${MANTAGO_TOKEN}"',
    );
    // The parser's other complaints about the same text follow it, without the hint again.
    expect(account.slice(1).filter((p) => p.includes('must be quoted'))).toEqual([]);
    const list = problems('channels:\n  - id: a\n    platform: line\n    secret: "${S}"\n    forward_urls: [${FORWARD_URL}]\n');
    expect(list).toEqual([
      'channels.yaml:5:20: YAML syntax error: Missing , or : between flow sequence items; in flow style ({ } or [ ]) ${FORWARD_URL} must be quoted, as "{" starts a map there: write "${FORWARD_URL}"',
    ]);
  });

  it('reports YAML syntax errors and an empty file', () => {
    expect(problems('channels: [\n')).toEqual([expect.stringMatching(/^channels\.yaml:2:1: YAML syntax error: /)]);
    expect(problems('')).toEqual(['channels.yaml:1:1: the channels file is empty: it holds "accounts:" and "channels:"']);
  });
});
