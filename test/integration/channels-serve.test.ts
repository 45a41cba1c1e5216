import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { ROOT, runCli } from '../cli/cli-run';
import { registerBotbonnieCommands } from '../../src/cli/botbonnie';
import { tempDir } from '../helpers/app-harness';
import { startFakeBotbonnie } from '../helpers/fake-tag-api';
import { freePort } from '../helpers/free-port';
import { startService } from '../helpers/service-process';

/** `serve` and the other commands with a channels file, as separate processes where the contract says so. */
describe('the channels file at start and in the commands', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('autotag-channels-serve-');
    fs.mkdirSync(path.join(dir, 'rules'));
    fs.writeFileSync(path.join(dir, 'rules', 'r.yaml'), 'rules:\n  - { id: r, when: { channel: shop }, then: [{ add_tag: t, provider: mantago }] }\n');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const env = () => ({ RULES_DIR: path.join(dir, 'rules'), DATA_DIR: path.join(dir, 'data'), CHANNELS_FILE: path.join(dir, 'channels.yaml') });

  it('serve refuses to start on a problem of the channels file, naming it at FILE:LINE:COLUMN, unset variables included', async () => {
    fs.writeFileSync(path.join(dir, 'channels.yaml'), 'channels:\n  - id: shop\n    platform: line\n    secret: ${SHOP_SECRET}\n');
    const served = await runCli(['serve'], { ...env(), PORT: String(await freePort()) });
    expect(served.code).toBe(1);
    // Given as an absolute path outside the working directory: named relative to it all the same, as rule files are.
    expect(served.stderr).toContain(`${path.relative(ROOT, path.join(dir, 'channels.yaml'))}:4:13: SHOP_SECRET is not set (the secret of channel shop is \${SHOP_SECRET})`);
    expect(path.relative(ROOT, path.join(dir, 'channels.yaml')).startsWith('../')).toBe(true);
    expect(served.stdout).not.toContain('listening');
    // validate only warns about it, and passes.
    const validated = await runCli(['validate'], env());
    expect(validated.code).toBe(0);
    expect(validated.stderr).toMatch(/^warning: .*channels\.yaml:4:13: SHOP_SECRET is not set/);
  });

  it('serve refusing a channels file with a problem names the rules\' problems too, at once (as validate does)', async () => {
    fs.writeFileSync(path.join(dir, 'channels.yaml'), 'channels:\n  - id: shop\n    platform: line\n    secret: ${SHOP_SECRET}\n');
    fs.writeFileSync(path.join(dir, 'rules', 'r.yaml'), 'rules:\n  - { id: r, when: { channel: shp }, then: [{ add_tag: t, provider: mantago }] }\n');
    const served = await runCli(['serve'], { ...env(), PORT: String(await freePort()) });
    expect(served.code).toBe(1);
    expect(served.stderr).toContain('SHOP_SECRET is not set');
    expect(served.stderr).toMatch(/^.*rules\/r\.yaml:2:\d+: unknown channel "shp"; did you mean "shop"\?/m);
  });

  it('serve starts with the channels file and says which channels and accounts it serves', async () => {
    fs.writeFileSync(
      path.join(dir, 'channels.yaml'),
      'accounts:\n  shop-bb:\n    provider: botbonnie\n    token: ${SHOP_BB_TOKEN}\nchannels:\n  - id: shop\n    platform: line\n    secret: ${SHOP_SECRET}\n    accounts: [shop-bb]\n',
    );
    const s = await startService({ ...env(), SHOP_SECRET: 'shop-line-secret', SHOP_BB_TOKEN: 'shop-bb-token-value' });
    try {
      const line = await s.waitForLog((l) => l.message === 'channels file in force');
      expect(line).toMatchObject({ channels: ['/webhooks/line/shop (shop-bb)'], accounts: ['shop-bb (botbonnie)'] });
      expect(JSON.stringify(s.logs)).not.toContain('shop-bb-token-value');
      expect(JSON.stringify(s.logs)).not.toContain('shop-line-secret');
    } finally {
      s.kill('SIGTERM');
      await s.exited;
    }
  });

  it('autotag botbonnie … --account NAME works in that account (its token, its base URL, its bot id)', async () => {
    const fake = await startFakeBotbonnie({ token: 'shop-bb-token', botId: 'bot-shop' });
    try {
      fs.writeFileSync(
        path.join(dir, 'channels.yaml'),
        `accounts:\n  shop-bb:\n    provider: botbonnie\n    token: \${SHOP_BB_TOKEN}\n    bot_id: bot-shop\n    base_url: ${fake.baseUrl}\n  shop-m:\n    provider: mantago\n    bot_id: "1"\n    token: \${M}\n    secret: \${M}\n`,
      );
      const run = async (args: string[], extra: Record<string, string> = {}) => {
        let out = '';
        let err = '';
        const program = new Command().exitOverride();
        registerBotbonnieCommands(program, { env: { ...env(), SHOP_BB_TOKEN: 'shop-bb-token', ...extra }, io: { stdout: (t) => void (out += t), stderr: (t) => void (err += t) } });
        process.exitCode = 0;
        await program.parseAsync(['node', 'autotag', 'botbonnie', ...args]);
        const code = process.exitCode;
        process.exitCode = 0;
        return { code, out, err };
      };
      const created = await run(['create-tag', 'vip', '--account', 'shop-bb', '--json']);
      expect(created.code).toBe(0);
      const { id } = JSON.parse(created.out) as { id: string };
      expect(fake.tags.get(id)).toMatchObject({ name: 'vip', botId: 'bot-shop' });
      expect(fake.requests[0]!.headers.authorization).toBe('Bearer shop-bb-token');

      expect(await run(['get-tag', id, '--account', 'shop-m'])).toMatchObject({ code: 1, err: 'autotag botbonnie get-tag: --account: shop-m is a MantaGo account, not a BotBonnie account\n' });
      expect((await run(['get-tag', id, '--account', 'nobody'])).err).toMatch(/^autotag botbonnie get-tag: --account: no account "nobody" in .*channels\.yaml; the BotBonnie accounts are botbonnie, shop-bb\n$/);
      // Another account's unset variable is no reason to refuse; this account's is.
      expect((await run(['get-tag', id, '--account', 'shop-bb'], { M: '' })).code).toBe(0);
      // The variable is named, as `validate` names it.
      const unset = await run(['get-tag', id, '--account', 'shop-bb'], { SHOP_BB_TOKEN: '' });
      expect(unset.code).toBe(1);
      expect(unset.err).toMatch(/^autotag botbonnie get-tag: SHOP_BB_TOKEN is not set \(the token of account shop-bb is \$\{SHOP_BB_TOKEN\} in \S*channels\.yaml\)\n$/);
    } finally {
      await fake.close();
    }
  });
});
