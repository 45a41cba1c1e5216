import fs from 'node:fs';
import path from 'node:path';
import { runCli, ROOT } from '../cli/cli-run';
import { onPersistentDisk } from '../../src/data-disk';
import { tempDir } from '../helpers/app-harness';
import { describePostgres, dropSchema, newSchemaName } from '../helpers/pg-schema';
import { freePort } from '../helpers/free-port';
import { startService } from '../helpers/service-process';

/** `autotag serve` as a process: what it refuses at start, and what its start log says. */
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('autotag serve at start', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('autotag-startup-log-');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses bad variables, every one named on stderr at once with what to do, and exits 1', async () => {
    const r = await runCli(['serve'], {
      PORT: '0',
      LOG_LEVEL: 'loud',
      RULES_DIR: path.join(dir, 'no-rules-here'),
      MANTAGO_TOKEN: 'a-mantago-token-value',
      BOTBONNIE_BOT_ID: 'bot-1',
      ADMIN_TOKEN: 'short',
      DATA_DIR: path.join(dir, 'data'),
    });
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain('listening');
    const lines = r.stderr.split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        '  PORT: must be a whole number from 1 to 65535, got "0"; leave it unset for 3000 (Heroku and Render set PORT themselves)',
        '  LOG_LEVEL: must be one of error, warn, info, http, verbose, debug, silly, got "loud"; leave it unset for info',
        expect.stringMatching(/^ {2}ADMIN_TOKEN: must be at least 16 characters .*openssl rand -hex 24/),
        expect.stringMatching(/^ {2}MANTAGO_BOT_ID and MANTAGO_SECRET: not set, but MANTAGO_TOKEN is, so MantaGo is only partly configured .*; set MANTAGO_BOT_ID and MANTAGO_SECRET, or unset MANTAGO_TOKEN/),
        expect.stringMatching(/^ {2}BOTBONNIE_TOKEN: not set, but BOTBONNIE_BOT_ID is, so BotBonnie is only partly configured/),
        `  RULES_DIR: ${JSON.stringify(path.join(dir, 'no-rules-here'))} does not exist; set RULES_DIR to the folder of your *.yaml rule files (relative to the working directory, or absolute)`,
      ]),
    );
    expect(r.stderr).not.toContain('a-mantago-token-value');
    // Nothing was created on the way: the store is not opened when the configuration is refused.
    expect(fs.existsSync(path.join(dir, 'data'))).toBe(false);
  });

  it('refuses a port another process listens on, naming PORT', async () => {
    const rules = path.join(dir, 'rules');
    fs.mkdirSync(rules);
    fs.writeFileSync(path.join(rules, 'r.yaml'), 'rules: []\n');
    const first = await startService({ RULES_DIR: rules, DATA_DIR: path.join(dir, 'a') });
    try {
      const r = await runCli(['serve'], { RULES_DIR: rules, DATA_DIR: path.join(dir, 'b'), PORT: String(first.port) });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`autotag serve: PORT: cannot listen on port ${first.port} (another process is using it); set PORT to a free port`);
    } finally {
      first.kill('SIGTERM');
      await first.exited;
    }
  });

  it('refuses a store it cannot open, naming the variable that points at it (DATA_DIR, DATABASE_URL)', async () => {
    const rules = path.join(dir, 'rules');
    fs.mkdirSync(rules);
    fs.writeFileSync(path.join(rules, 'r.yaml'), 'rules: []\n');
    const file = path.join(dir, 'a-file');
    fs.writeFileSync(file, '');
    const sqlite = await runCli(['serve'], { RULES_DIR: rules, DATA_DIR: path.join(file, 'data'), PORT: String(await freePort()) });
    expect(sqlite.code).toBe(1);
    expect(sqlite.stderr).toMatch(new RegExp(`^autotag serve: cannot open the store \\(DATA_DIR: SQLite in ${escape(path.join(file, 'data'))}\\): cannot open the SQLite store at .*ENOTDIR`, 'm'));
    const closedPort = await freePort();
    const pg = await runCli(['serve'], { RULES_DIR: rules, DATABASE_URL: `postgres://postgres@127.0.0.1:${closedPort}/none`, PORT: String(await freePort()) });
    expect(pg.code).toBe(1);
    expect(pg.stderr).toMatch(/^autotag serve: cannot open the store \(DATABASE_URL\): PostgreSQL is unavailable: /m);
  });

  it('logs one line per endpoint, account, the store and the rules, and warns about example tag ids and an ephemeral disk', async () => {
    const channels = path.join(dir, 'channels.yaml');
    fs.writeFileSync(
      channels,
      'accounts:\n  brand-bb:\n    provider: botbonnie\n    token: ${BRAND_BB_TOKEN}\nchannels:\n  - id: brand-meta\n    platform: meta\n    app_secret: ${BRAND_APP_SECRET}\n    verify_token: ${BRAND_VERIFY}\n    accounts: [brand-bb]\n',
    );
    const dataDir = path.join(dir, 'data');
    const s = await startService({
      // The shipped example rules, with their REPLACE-WITH-… tag ids.
      RULES_DIR: path.join(ROOT, 'rules'),
      DATA_DIR: dataDir,
      CHANNELS_FILE: channels,
      LINE_CHANNEL_SECRET: 'line-secret-value',
      MANTAGO_BOT_ID: 'bot-1',
      MANTAGO_TOKEN: 'mantago-token-value',
      MANTAGO_SECRET: 'mantago-secret-value',
      BRAND_BB_TOKEN: 'brand-bb-token-value',
      BRAND_APP_SECRET: 'brand-app-secret-value',
      BRAND_VERIFY: 'brand-verify-value',
      METRICS_TOKEN: 'metrics-token-value',
      RENDER: 'true',
    });
    try {
      const messages = s.logs.map((l) => l.message);
      expect(messages).toEqual(
        expect.arrayContaining([
          '/webhooks/line: enabled, signatures checked with LINE_CHANNEL_SECRET',
          '/webhooks/facebook: disabled, FACEBOOK_APP_SECRET is not set',
          '/webhooks/whatsapp: disabled, neither WHATSAPP_APP_SECRET nor FACEBOOK_APP_SECRET is set',
          `/webhooks/meta/brand-meta: enabled, signatures checked with BRAND_APP_SECRET; Meta's subscription check (GET) uses BRAND_VERIFY; channel brand-meta of ${channels}, tags in brand-bb`,
          '/admin: disabled (404), ADMIN_TOKEN is not set',
          '/metrics: enabled, wants Authorization: Bearer METRICS_TOKEN',
          'account mantago (MantaGo, from the environment): configured',
          'account botbonnie (BotBonnie, from the environment): not configured, BOTBONNIE_TOKEN is not set; its tag operations are kept as dead letters until it is',
          `account brand-bb (BotBonnie, from ${channels}): configured; tags for brand-meta`,
          `store: SQLite, file ${path.join(dataDir, 'autotag.db')} (DATA_DIR)`,
          expect.stringMatching(new RegExp(`^rules: \\d+ rules \\(\\d+ enabled\\) from 4 files in ${path.join(ROOT, 'rules').replace(/[/.]/g, '\\$&')}$`)),
          expect.stringMatching(/^rule coupon-request \(rules\/coupon\.yaml:\d+:\d+\) uses the example tag id REPLACE-WITH-COUPON-TAG-ID: replace it with a tag id of your own/),
        ]),
      );
      const endpointLines = s.logs.filter((l) => l.setup === 'endpoint');
      expect(endpointLines.map((l) => l.channel ?? l.path)).toEqual(['line', 'facebook', 'whatsapp', 'brand-meta', '/admin', '/metrics']);
      expect(s.logs.find((l) => String(l.message).startsWith('rule coupon-request'))?.level).toBe('warn');
      // Render without a persistent disk under DATA_DIR: a loud warning. Where the test's temporary
      // folder happens to be on a disk of its own (the mount table says so), none.
      const render = s.logs.filter((l) => l.code === 'ephemeral-disk-render');
      if (onPersistentDisk(dataDir) === true) {
        expect(render).toEqual([]);
      } else {
        expect(render).toHaveLength(1);
        expect(render[0]).toMatchObject({ level: 'error', message: expect.stringContaining(`DATA_DIR (${dataDir}) is not on a persistent disk`) });
      }
      expect(JSON.stringify(s.logs)).not.toMatch(/line-secret-value|mantago-token-value|mantago-secret-value|brand-bb-token-value|brand-app-secret-value|brand-verify-value|metrics-token-value/);
    } finally {
      s.kill('SIGTERM');
      expect(await s.exited).toBe(0);
    }
  });
});

describePostgres('autotag serve at start, with PostgreSQL', (url) => {
  let dir: string;
  let schema: string;
  beforeEach(() => {
    dir = tempDir('autotag-startup-log-pg-');
    schema = newSchemaName('startlog');
  });
  afterEach(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await dropSchema(url, schema);
  });

  it('names the store by host, port, database and schema, without the user or password', async () => {
    const rules = path.join(dir, 'rules');
    fs.mkdirSync(rules);
    fs.writeFileSync(path.join(rules, 'r.yaml'), 'rules: []\n');
    const s = await startService({ RULES_DIR: rules, DATABASE_URL: url, DATABASE_SCHEMA: schema });
    try {
      const u = new URL(url);
      expect(s.logs.find((l) => l.setup === 'store')?.message).toBe(
        `store: PostgreSQL, ${u.hostname}:${u.port || '5432'}/${u.pathname.slice(1)}, schema ${schema} (DATABASE_URL), TLS by DATABASE_SSL=auto`,
      );
      expect(s.logs.find((l) => l.setup === 'rules')?.message).toBe(`rules: 0 rules (0 enabled) from 1 file in ${rules}`);
      if (u.username) expect(JSON.stringify(s.logs.filter((l) => l.setup))).not.toContain(`${u.username}@`);
    } finally {
      s.kill('SIGTERM');
      await s.exited;
    }
  });
});
