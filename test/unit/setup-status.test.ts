import fs from 'node:fs';
import path from 'node:path';
import { ruleCatalogue } from '../../src/channels/catalogue';
import { loadConfig } from '../../src/config';
import { loadRuleSet, type RuleSet } from '../../src/rules';
import { postgresLocation, setupStatus } from '../../src/setup-status';
import { tempDir } from '../helpers/app-harness';

const CHANNELS = `accounts:
  brand-a:
    provider: mantago
    bot_id: "1234"
    token: \${A_TOKEN}
    secret: \${A_SECRET}
channels:
  - id: brand-a-line
    platform: line
    secret: \${A_LINE_SECRET}
    destination: Ubrand-a
    accounts: [brand-a]
  - id: brand-b-meta
    platform: meta
    app_secret: \${B_APP_SECRET}
    verify_token: \${B_VERIFY}
    forward_urls: [https://fw.example/b, https://fw.example/c]
`;
const FILE_ENV = { A_TOKEN: 'a-token-value', A_SECRET: 'a-secret-value', A_LINE_SECRET: 'a-line-secret', B_APP_SECRET: 'b-app-secret', B_VERIFY: 'b-verify-token' };

/** A mount table where /srv/disk is a disk of its own and /dev/shm is memory. */
const MOUNTS = [
  '26 1 254:0 / / rw,relatime - overlay overlay rw',
  '27 26 254:16 / /srv/disk rw,relatime - ext4 /dev/vdb rw',
  '29 24 0:26 / /dev/shm rw,relatime - tmpfs tmpfs rw',
].join('\n');

describe('setupStatus', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('autotag-setup-status-');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const rulesIn = async (files: Record<string, string>, config: ReturnType<typeof loadConfig>): Promise<RuleSet> => {
    const rulesDir = path.join(dir, 'rules');
    fs.mkdirSync(path.join(rulesDir, 'sub'), { recursive: true });
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(rulesDir, name), text);
    const loaded = await loadRuleSet(rulesDir, { catalogue: ruleCatalogue(config.channelsFile) });
    if (!loaded.ruleSet) throw new Error(JSON.stringify(loaded.problems));
    return loaded.ruleSet;
  };

  it('says whether /admin is served and whether /metrics wants a token, by variable name', () => {
    const off = setupStatus(loadConfig({}));
    expect(off.operatorEndpoints.map((e) => e.summary)).toEqual([
      '/admin: disabled (404), ADMIN_TOKEN is not set',
      '/metrics: enabled and open to anyone who reaches it, METRICS_TOKEN is not set',
    ]);
    const on = setupStatus(loadConfig({ ADMIN_TOKEN: 'admin-token-value-123456', METRICS_TOKEN: 'metrics-token-value' }));
    expect(on.operatorEndpoints).toMatchObject([
      { path: '/admin', enabled: true, guarded: true, summary: '/admin: enabled, the status page asks for ADMIN_TOKEN' },
      { path: '/metrics', enabled: true, guarded: true, summary: '/metrics: enabled, wants Authorization: Bearer METRICS_TOKEN' },
    ]);
    expect(JSON.stringify(on)).not.toMatch(/admin-token-value|metrics-token-value/);
  });

  it('says which environment endpoints are enabled, with which variable, and which are disabled and why', () => {
    const status = setupStatus(loadConfig({ LINE_CHANNEL_SECRET: 'line-secret-x', FACEBOOK_APP_SECRET: 'fb-secret-x', FACEBOOK_VERIFY_TOKEN: 'fb-verify-x', LINE_FORWARD_URLS: 'https://a.example/x' }));
    expect(status.endpoints.map((e) => e.summary)).toEqual([
      '/webhooks/line: enabled, signatures checked with LINE_CHANNEL_SECRET; forwards to 1 URL',
      "/webhooks/facebook: enabled, signatures checked with FACEBOOK_APP_SECRET; Meta's subscription check (GET) uses FACEBOOK_VERIFY_TOKEN",
      "/webhooks/whatsapp: enabled, signatures checked with FACEBOOK_APP_SECRET (WHATSAPP_APP_SECRET is not set); Meta's subscription check (GET) uses FACEBOOK_VERIFY_TOKEN",
    ]);
    expect(status.endpoints[2]).toMatchObject({ channel: 'whatsapp', enabled: true, secretVariable: 'FACEBOOK_APP_SECRET', subscriptionCheck: { enabled: true, variable: 'FACEBOOK_VERIFY_TOKEN' } });
    // Values never appear, only names.
    expect(JSON.stringify(status)).not.toMatch(/line-secret-x|fb-secret-x|fb-verify-x/);

    const none = setupStatus(loadConfig({ WHATSAPP_APP_SECRET: 'wa-secret-x' }));
    expect(none.endpoints.map((e) => e.summary)).toEqual([
      '/webhooks/line: disabled, LINE_CHANNEL_SECRET is not set',
      '/webhooks/facebook: disabled, FACEBOOK_APP_SECRET is not set',
      "/webhooks/whatsapp: enabled, signatures checked with WHATSAPP_APP_SECRET; Meta's subscription check (GET) answers 403, neither WHATSAPP_VERIFY_TOKEN nor FACEBOOK_VERIFY_TOKEN is set",
    ]);
    expect(none.endpoints[0]).toMatchObject({ enabled: false, reason: 'LINE_CHANNEL_SECRET is not set' });
    expect(none.endpoints[2]).toMatchObject({ subscriptionCheck: { enabled: false, reason: 'neither WHATSAPP_VERIFY_TOKEN nor FACEBOOK_VERIFY_TOKEN is set' } });
  });

  it("names the channels file's endpoints and accounts, and the LINE channels POST /webhooks/line routes to", () => {
    fs.writeFileSync(path.join(dir, 'channels.yaml'), CHANNELS);
    const status = setupStatus(loadConfig({ ...FILE_ENV, MANTAGO_TOKEN: 'm', MANTAGO_SECRET: 's', MANTAGO_BOT_ID: 'b' }, { cwd: dir }));
    const byChannel = new Map(status.endpoints.map((e) => [e.channel, e]));
    expect(byChannel.get('line')).toMatchObject({ enabled: true, routesTo: ['brand-a-line'], reason: 'LINE_CHANNEL_SECRET is not set' });
    expect(byChannel.get('line')!.summary).toBe(
      "/webhooks/line: enabled for the channels file's LINE channels by destination (brand-a-line); LINE_CHANNEL_SECRET is not set, so a body for another destination gets 401",
    );
    expect(byChannel.get('brand-a-line')!.summary).toBe('/webhooks/line/brand-a-line: enabled, signatures checked with A_LINE_SECRET; channel brand-a-line of channels.yaml, tags in brand-a');
    expect(byChannel.get('brand-b-meta')!.summary).toBe(
      "/webhooks/meta/brand-b-meta: enabled, signatures checked with B_APP_SECRET; Meta's subscription check (GET) uses B_VERIFY; forwards to 2 URLs; channel brand-b-meta of channels.yaml",
    );
    expect(status.accounts.map((a) => a.summary)).toEqual([
      'account mantago (MantaGo, from the environment): configured',
      'account botbonnie (BotBonnie, from the environment): not configured, BOTBONNIE_TOKEN is not set; its tag operations are kept as dead letters until it is',
      'account brand-a (MantaGo, from channels.yaml): configured; tags for brand-a-line',
    ]);
    expect(status.accounts[1]).toMatchObject({ name: 'botbonnie', provider: 'botbonnie', configured: false, reason: 'BOTBONNIE_TOKEN is not set' });
    expect(JSON.stringify(status)).not.toMatch(/a-token-value|a-secret-value|a-line-secret|b-app-secret|b-verify-token/);

    // With a LINE secret of its own, it says both.
    const both = setupStatus(loadConfig({ ...FILE_ENV, LINE_CHANNEL_SECRET: 'env-line' }, { cwd: dir }));
    expect(both.endpoints[0]).toMatchObject({
      enabled: true,
      secretVariable: 'LINE_CHANNEL_SECRET',
      routesTo: ['brand-a-line'],
      summary: '/webhooks/line: enabled, signatures checked with LINE_CHANNEL_SECRET; a body for the destination of brand-a-line goes to that channel',
    });
    expect(both.endpoints[0]).not.toHaveProperty('reason');

    // A file LINE channel without a destination, and no LINE secret of the environment: a body at /webhooks/line gets 401, not 503.
    fs.writeFileSync(path.join(dir, 'channels.yaml'), CHANNELS.replace('    destination: Ubrand-a\n', ''));
    const unrouted = setupStatus(loadConfig(FILE_ENV, { cwd: dir }));
    expect(unrouted.endpoints[0]).toMatchObject({
      enabled: false,
      reason: 'LINE_CHANNEL_SECRET is not set',
      summary: '/webhooks/line: disabled, LINE_CHANNEL_SECRET is not set, and no channel of the channels file declares a destination: a body here gets 401 (the file\'s channels are at /webhooks/line/brand-a-line)',
    });
  });

  it('says where the store is: the SQLite file, or PostgreSQL host, port, database and schema without user or password', () => {
    const sqlite = setupStatus(loadConfig({ DATA_DIR: path.join(dir, 'data') }));
    expect(sqlite.store).toEqual({ engine: 'sqlite', location: path.join(dir, 'data', 'autotag.db'), summary: `store: SQLite, file ${path.join(dir, 'data', 'autotag.db')} (DATA_DIR)` });
    const pg = setupStatus(loadConfig({ DATABASE_URL: 'postgres://someone:hunter22@db.example:6543/autotag?sslmode=prefer', DATABASE_SCHEMA: 'brand' }));
    expect(pg.store.summary).toBe('store: PostgreSQL, db.example:6543/autotag, schema brand (DATABASE_URL), TLS by sslmode=prefer in DATABASE_URL');
    expect(JSON.stringify(pg)).not.toMatch(/hunter22|someone/);
    expect(postgresLocation('postgresql://u:p@10.0.0.5/x', undefined)).toBe('10.0.0.5:5432/x');
    expect(postgresLocation('postgres://u:p@[not a url', undefined)).toBe('the database DATABASE_URL names');
  });

  it('counts rules and files, and warns about each enabled rule that still uses a shipped example tag id', async () => {
    const config = loadConfig({ MANTAGO_TOKEN: 'm', MANTAGO_SECRET: 's', MANTAGO_BOT_ID: 'b' });
    const ruleSet = await rulesIn(
      {
        'a.yaml': 'defaults: { provider: mantago }\nrules:\n  - id: real\n    when: { text: { contains: x } }\n    then: [ { add_tag: tag-1 } ]\n  - id: example\n    when: { text: { contains: y } }\n    then: [ { add_tag: REPLACE-WITH-A-TAG-ID }, { remove_tag: REPLACE-WITH-B-TAG-ID } ]\n',
        'sub/b.yaml': 'defaults: { provider: mantago }\nrules:\n  - id: off\n    enabled: false\n    when: { text: { contains: z } }\n    then: [ { add_tag: REPLACE-WITH-C-TAG-ID } ]\n',
      },
      config,
    );
    const status = setupStatus(config, { rules: ruleSet });
    expect(status.rules).toMatchObject({ rules: 3, enabled: 2, files: 2 });
    expect(status.rules!.summary).toBe(`rules: 3 rules (2 enabled) from 2 files in ${config.rulesDir}`);
    const warnings = status.warnings.filter((w) => w.code === 'example-tag-id');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(
      /^rule example \(.*a\.yaml:6:9\) uses the example tag ids REPLACE-WITH-A-TAG-ID, REPLACE-WITH-B-TAG-ID: replace them with tag ids of your own, or disable the rule \(enabled: false\)$/,
    );
  });

  it('warns when enabled rules tag with a provider no configured account stands for', async () => {
    const config = loadConfig({});
    const ruleSet = await rulesIn({ 'a.yaml': 'rules:\n  - id: bb\n    when: { event: follow }\n    then: [ { add_tag: t, provider: botbonnie } ]\n' }, config);
    expect(setupStatus(config, { rules: ruleSet }).warnings).toEqual([
      { code: 'provider-not-configured', message: 'rule bb tags in BotBonnie, but no BotBonnie account is configured (BOTBONNIE_TOKEN is not set): their tag operations are kept as dead letters until one is' },
    ]);
    const configured = loadConfig({ BOTBONNIE_TOKEN: 'bb' });
    expect(setupStatus(configured, { rules: ruleSet }).warnings).toEqual([]);
  });

  it('warns about a METRICS_TOKEN shorter than 16 characters (it is not throttled), and only then', () => {
    expect(setupStatus(loadConfig({ METRICS_TOKEN: 'x' })).warnings).toEqual([
      { code: 'short-metrics-token', message: 'METRICS_TOKEN is 1 character long: wrong tokens at /metrics are not throttled, so use at least 16 (`openssl rand -hex 24`)' },
    ]);
    expect(setupStatus(loadConfig({ METRICS_TOKEN: '0123456789abcde' })).warnings.map((w) => w.code)).toEqual(['short-metrics-token']);
    expect(setupStatus(loadConfig({ METRICS_TOKEN: '0123456789abcdef' })).warnings).toEqual([]);
    expect(setupStatus(loadConfig({})).warnings).toEqual([]);
  });

  it('warns when two accounts hold the same MantaGo token: the first refresh would retire the pair the other sends', () => {
    fs.writeFileSync(path.join(dir, 'channels.yaml'), CHANNELS);
    const env = { ...FILE_ENV, MANTAGO_BOT_ID: '1234', MANTAGO_SECRET: 'a-secret-value' };
    expect(setupStatus(loadConfig({ ...env, MANTAGO_TOKEN: 'a-token-value' }, { cwd: dir })).warnings).toEqual([
      {
        code: 'shared-rotated-credential',
        message:
          'accounts mantago and brand-a hold the same MantaGo token: each refreshes its token pair on its own, and the first refresh retires the pair the other ' +
          'still sends (its calls then fail with 401 and become dead letters). Use one account for one MantaGo bot (channels may share an account), or give each account a pair of its own',
      },
    ]);
    expect(setupStatus(loadConfig({ ...env, MANTAGO_TOKEN: 'another-token' }, { cwd: dir })).warnings).toEqual([]);
    // Three accounts: listed as a list, and "the others".
    const three = CHANNELS.replace('channels:\n', '  brand-c:\n    provider: mantago\n    bot_id: "5678"\n    token: ${A_TOKEN}\n    secret: ${A_SECRET}\nchannels:\n');
    fs.writeFileSync(path.join(dir, 'channels.yaml'), three);
    expect(setupStatus(loadConfig({ ...env, MANTAGO_TOKEN: 'a-token-value' }, { cwd: dir })).warnings.map((w) => w.message)).toEqual([
      expect.stringMatching(/^accounts mantago, brand-a and brand-c hold the same MantaGo token: .* retires the pair the others still send \(their calls then fail/),
    ]);
    fs.writeFileSync(path.join(dir, 'channels.yaml'), CHANNELS);
    // BotBonnie's token is not rotated by the service: accounts may share one.
    const botbonnie = CHANNELS.replace('provider: mantago\n    bot_id: "1234"\n    token: ${A_TOKEN}\n    secret: ${A_SECRET}', 'provider: botbonnie\n    token: ${A_TOKEN}');
    expect(botbonnie).toContain('provider: botbonnie');
    fs.writeFileSync(path.join(dir, 'channels.yaml'), botbonnie);
    expect(setupStatus(loadConfig({ ...FILE_ENV, BOTBONNIE_TOKEN: 'a-token-value' }, { cwd: dir })).warnings).toEqual([]);
  });

  describe('SQLite on an ephemeral disk', () => {
    it('on Heroku (DYNO set): the existing warning', () => {
      const [warning] = setupStatus(loadConfig({ DYNO: 'web.1', DATA_DIR: dir })).warnings;
      expect(warning).toMatchObject({ code: 'ephemeral-disk-heroku', message: expect.stringMatching(/LOST at every dyno restart.*DATABASE_URL/) });
      expect(setupStatus(loadConfig({ DYNO: 'web.1', DATABASE_URL: 'postgres://h/db' })).warnings).toEqual([]);
    });

    it('on Render (RENDER set): only when DATA_DIR is not under a persistent disk', () => {
      const render = (dataDir: string) => setupStatus(loadConfig({ RENDER: 'true', DATA_DIR: dataDir }), { mountInfo: MOUNTS }).warnings;
      expect(render('/opt/render/project/src/data')).toEqual([
        {
          code: 'ephemeral-disk-render',
          message: expect.stringMatching(/^WARNING: running on Render with the embedded SQLite store, and DATA_DIR \(\/opt\/render\/project\/src\/data\) is not on a persistent disk: .*LOST at every deploy and restart\. Set DATABASE_URL/),
        },
      ]);
      expect(render('/dev/shm/autotag')).toHaveLength(1);
      expect(render('/srv/disk/autotag')).toEqual([]);
      expect(render('/srv/disk')).toEqual([]);
      // A sibling whose name only starts like the mount point is not on it.
      expect(render('/srv/disk2/autotag')).toHaveLength(1);
      expect(setupStatus(loadConfig({ DATA_DIR: '/opt/render/project/src/data' }), { mountInfo: MOUNTS }).warnings).toEqual([]);
      expect(setupStatus(loadConfig({ RENDER: 'true', DATABASE_URL: 'postgres://h/db' }), { mountInfo: MOUNTS }).warnings).toEqual([]);
    });
  });
});
