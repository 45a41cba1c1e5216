import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { runTest } from '../../src/cli/test-command';
import { runValidate } from '../../src/cli/validate';
import { runSchema } from '../../src/cli/schema';
import { bufferIo, ROOT, runCli } from './cli-run';

/** The variables channels.example.yaml names. */
const EXAMPLE_ENV = {
  CHANNELS_FILE: 'channels.example.yaml',
  BRAND_A_MANTAGO_TOKEN: 'a-token',
  BRAND_A_MANTAGO_SECRET: 'a-secret',
  BRAND_B_BOTBONNIE_TOKEN: 'b-token',
  BRAND_A_LINE_SECRET: 'a-line',
  BRAND_B_LINE_SECRET: 'b-line',
  GROUP_META_APP_SECRET: 'meta',
  GROUP_META_VERIFY_TOKEN: 'verify',
};
const RULES = 'test/fixtures/channels/brands/rules';
const deps = (env: NodeJS.ProcessEnv) => ({ env, now: () => Date.parse('2026-06-15T12:00:00Z'), cwd: ROOT });

describe('autotag validate with a channels file', () => {
  it('checks the channels file and the rules against it; the summary names it', async () => {
    const io = bufferIo();
    expect(await runValidate({ rules: RULES }, io, deps(EXAMPLE_ENV))).toBe(0);
    expect(io.err).toBe('');
    expect(io.out).toBe('2 rules in 1 file OK; 4 examples hold; channels.example.yaml: 3 channels, 2 accounts OK\n');
  });

  it('only warns about unset variables (serve refuses them), at their FILE:LINE:COLUMN', async () => {
    const io = bufferIo();
    expect(await runValidate({ rules: RULES }, io, deps({ CHANNELS_FILE: 'channels.example.yaml', BRAND_A_LINE_SECRET: 'x' }))).toBe(0);
    const lines = io.err.trimEnd().split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[0]).toBe(
      'warning: channels.example.yaml:11:12: BRAND_A_MANTAGO_TOKEN is not set (the token of account brand-a is ${BRAND_A_MANTAGO_TOKEN}) (autotag serve refuses to start without it)',
    );
  });

  it('fails with every problem of the file and of the rules that name what it lacks', async () => {
    const io = bufferIo();
    const env = { CHANNELS_FILE: 'test/fixtures/channels/invalid/channels.yaml', A_SECRET: 's', SHOP_SECRET: 's' };
    expect(await runValidate({ rules: 'rules' }, io, deps(env))).toBe(1);
    expect(io.out).toBe('');
    expect(io.err).toBe(
      [
        'test/fixtures/channels/invalid/channels.yaml:5:12: a literal secret is not allowed for "token" in the channels file: write token: ${VARIABLE} and set that variable in the environment',
        'test/fixtures/channels/invalid/channels.yaml:11:16: unknown account "brand-z"; did you mean "brand-a"?',
        'test/fixtures/channels/invalid/channels.yaml:12:5: unknown key "forwrd_urls" in a LINE channel; did you mean "forward_urls"?',
        '',
      ].join('\n'),
    );
  });

  it('still checks the rules against what a channels file with problems declares', async () => {
    const io = bufferIo();
    const env = { CHANNELS_FILE: 'test/fixtures/channels/invalid/channels.yaml', A_SECRET: 's', SHOP_SECRET: 's' };
    expect(await runValidate({ rules: 'test/fixtures/channels/invalid/rules' }, io, deps(env))).toBe(1);
    const lines = io.err.trimEnd().split('\n');
    // The file's own three problems, then the rule's names the file does not declare ("shop" and "brand-a" it does).
    expect(lines.filter((l) => l.startsWith('test/fixtures/channels/invalid/channels.yaml:'))).toHaveLength(3);
    const ruleLines = lines.filter((l) => l.startsWith('test/fixtures/channels/invalid/rules/shop.yaml:'));
    expect(ruleLines).toHaveLength(2);
    expect(ruleLines[0]).toMatch(/^test\/fixtures\/channels\/invalid\/rules\/shop\.yaml:5:\d+: unknown channel "ghost"; the channels of test\/fixtures\/channels\/invalid\/channels\.yaml and the environment's: line, facebook, whatsapp, shop$/);
    expect(ruleLines[1]).toMatch(/^test\/fixtures\/channels\/invalid\/rules\/shop\.yaml:13:\d+: .*"nobody"/);
  });

  it('passes with a warning at a platform condition the rule\'s channel of the file never receives', async () => {
    const io = bufferIo();
    expect(await runValidate({ rules: 'test/fixtures/channels/platform-apart' }, io, deps(EXAMPLE_ENV))).toBe(0);
    expect(io.out).toBe('2 rules in 1 file OK; 0 examples hold; channels.example.yaml: 3 channels, 2 accounts OK\n');
    // Only the first rule: group-meta receives WhatsApp webhooks.
    expect(io.err).toBe(
      'warning: test/fixtures/channels/platform-apart/rules.yaml:6:23: this platform condition can never hold: ' +
        'the rule\'s channel brand-a-line receives only line webhooks, and this rule\'s platform is whatsapp\n',
    );
  });

  it('refuses rules that name channels no file declares', async () => {
    const io = bufferIo();
    expect(await runValidate({ rules: RULES }, io, deps({}))).toBe(1);
    expect(io.err).toMatch(/^test\/fixtures\/channels\/brands\/rules\/brands\.yaml:4:13: unknown channel "brand-a-line"; the environment's channels \(there is no channels file\): line, facebook, whatsapp\n/);
  });

  it('runs as the real command', async () => {
    const r = await runCli(['validate', '--rules', RULES], EXAMPLE_ENV);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/channels\.example\.yaml: 3 channels, 2 accounts OK/);
  });
});

describe('autotag test --channel', () => {
  const run = async (opts: Parameters<typeof runTest>[0], env: NodeJS.ProcessEnv = EXAMPLE_ENV) => {
    const io = bufferIo();
    const code = await runTest({ rules: RULES, at: '2026-06-01T00:00:00Z', ...opts }, io, deps(env));
    return { code, out: io.out, err: io.err };
  };

  it('warns, as validate does, of each unset variable the channels file names (serve refuses them), and still runs', async () => {
    const env = { CHANNELS_FILE: 'channels.example.yaml', BRAND_A_LINE_SECRET: 'x' };
    const r = await run({ text: 'coupon', channel: 'group-meta', json: true }, env);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual(JSON.parse((await run({ text: 'coupon', channel: 'group-meta', json: true })).out));
    const validate = bufferIo();
    await runValidate({ rules: RULES }, validate, deps(env));
    expect(r.err).toBe(validate.err);
    expect(r.err.trimEnd().split('\n')).toHaveLength(6);
    expect(r.err).toContain(
      'warning: channels.example.yaml:11:12: BRAND_A_MANTAGO_TOKEN is not set (the token of account brand-a is ${BRAND_A_MANTAGO_TOKEN}) (autotag serve refuses to start without it)\n',
    );
  });

  it('evaluates on the channel given; a Meta app alone means a Facebook event', async () => {
    expect(JSON.parse((await run({ text: 'coupon', channel: 'group-meta', json: true })).out)).toEqual({
      matched: ['brand-a-coupon'],
      operations: [{ action: 'add', provider: 'mantago', kind: 'personal', tagId: 'tag-coupon' }],
    });
    // Without --channel: the platform's environment channel, which these rules do not cover.
    expect(JSON.parse((await run({ text: 'coupon', json: true })).out)).toEqual({ matched: [], operations: [] });
  });

  it('prints "account" where the action names one, and in the table the account each operation goes to', async () => {
    expect(JSON.parse((await run({ text: 'vip', channel: 'brand-b-line', json: true })).out)).toEqual({
      matched: ['brand-b-vip'],
      operations: [
        { action: 'add', provider: 'botbonnie', tagId: 'tag-vip' },
        { action: 'add', provider: 'mantago', kind: 'personal', tagId: 'tag-vip-seen', account: 'brand-a' },
      ],
    });
    const table = (await run({ text: 'vip', channel: 'brand-b-line' })).out;
    expect(table).toContain('Event: message on line (channel brand-b-line), text "vip"');
    expect(table).toMatch(/add\s+botbonnie\s+-\s+tag-vip\s+-\s+brand-b\n/);
    expect(table).toMatch(/add\s+mantago\s+personal\s+tag-vip-seen\s+-\s+brand-a\n/);
  });

  it('names the account in the table on a channel of the channels file, also when it is the environment\'s (not the channel\'s own)', async () => {
    const rules = fs.mkdtempSync(path.join(os.tmpdir(), 'autotag-env-account-'));
    try {
      fs.writeFileSync(
        path.join(rules, 'r.yaml'),
        'rules:\n  - id: to-env\n    when: { channel: brand-a-line, text: { contains: hey } }\n    then: [ { add_tag: t, provider: mantago, account: mantago } ]\n',
      );
      const table = (await run({ rules, text: 'hey', channel: 'brand-a-line' })).out;
      // Without the column a reader takes the tag to go to brand-a, the channel's own account.
      expect(table).toMatch(/ACCOUNT\n.*\n\s+add\s+mantago\s+personal\s+t\s+-\s+mantago\n/);
    } finally {
      fs.rmSync(rules, { recursive: true, force: true });
    }
  });

  it('lists an action that lands on an earlier one\'s tag in the same account (named or by default) once: the first', async () => {
    const rules = 'test/fixtures/channels/same-tag-rules';
    expect(JSON.parse((await run({ rules, channel: 'brand-a-line', json: true })).out)).toEqual({
      matched: ['first', 'second'],
      operations: [
        { action: 'add', provider: 'mantago', kind: 'personal', tagId: 'x' },
        { action: 'add', provider: 'mantago', kind: 'personal', tagId: 'd' },
        { action: 'add', provider: 'mantago', kind: 'personal', tagId: 'z', account: 'mantago' },
        // The environment's account is another account than brand-a: its own operation.
        { action: 'remove', provider: 'mantago', kind: 'personal', tagId: 'z' },
      ],
    });
    const table = (await run({ rules, channel: 'brand-a-line' })).out;
    expect(table).toContain('Tag operations (4):');
    expect(table).toMatch(/add\s+mantago\s+personal\s+z\s+-\s+mantago\n\s+remove\s+mantago\s+personal\s+z\s+-\s+brand-a\n/);
  });

  it('exits 1 on an unknown channel, or one of another platform', async () => {
    const unknown = await run({ text: 'x', channel: 'brand-a-lin' });
    expect(unknown.code).toBe(1);
    expect(unknown.err).toBe('autotag test: --channel: unknown channel "brand-a-lin"; did you mean "brand-a-line"?: use line, facebook, whatsapp, brand-a-line, brand-b-line, group-meta\n');
    const other = await run({ text: 'x', channel: 'brand-a-line', platform: 'facebook' });
    expect(other.code).toBe(1);
    expect(other.err).toBe('autotag test: --channel: channel brand-a-line does not receive facebook webhooks (it receives line)\n');
  });
});

describe('autotag schema --channels', () => {
  it('prints the channels file\'s schema, as committed', () => {
    const io = bufferIo();
    expect(runSchema({ channels: true }, io)).toBe(0);
    expect(io.out).toBe(fs.readFileSync(path.join(ROOT, 'schemas/channels.schema.json'), 'utf8'));
    expect(JSON.parse(io.out)).toMatchObject({ title: 'chat-autotag channels file', $schema: 'http://json-schema.org/draft-07/schema#' });
  });

  it('--channels with --write is refused (--write writes every schema), and nothing is written', () => {
    const io = bufferIo();
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'autotag-schema-'));
    try {
      expect(runSchema({ channels: true, write: true }, io, root)).toBe(1);
      expect([io.out, io.err]).toEqual(['', 'autotag schema: --write writes every schema; leave out --channels\n']);
      expect(fs.readdirSync(root)).toEqual([]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
