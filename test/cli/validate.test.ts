import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runValidate } from '../../src/cli/validate';
import { bufferIo, ROOT, runCli } from './cli-run';

const deps = (env: NodeJS.ProcessEnv = {}) => ({ env, now: () => Date.parse('2026-06-15T12:00:00Z'), cwd: ROOT });

describe('autotag validate', () => {
  it('passes on the shipped example rules with a summary on stdout', async () => {
    const io = bufferIo();
    expect(await runValidate({ rules: 'rules' }, io, deps())).toBe(0);
    expect(io.out).toMatch(/^\d+ rules in 4 files OK; \d+ examples hold\n$/);
    expect(io.err).toBe('');
  });

  it('reads RULES_DIR when --rules is not given, and --rules wins over it', async () => {
    const io = bufferIo();
    expect(await runValidate({}, io, deps({ RULES_DIR: 'test/fixtures/rules/priority' }))).toBe(0);
    expect(io.out).toMatch(/^7 rules in 3 files OK; 0 examples hold\n$/);
    const io2 = bufferIo();
    expect(await runValidate({ rules: 'test/fixtures/rules/conditions' }, io2, deps({ RULES_DIR: 'nowhere' }))).toBe(0);
    expect(io2.out).toMatch(/^18 rules in 1 file OK \(1 disabled\)/);
  });

  it('says "1 example holds", "1 rule", "1 file" in the singular', async () => {
    const io = bufferIo();
    expect(await runValidate({ rules: 'test/fixtures/rules/one-example' }, io, deps())).toBe(0);
    expect(io.out).toBe('1 rule in 1 file OK; 1 example holds\n');
  });

  it('passes with a warning at a channel inside any/all/not that the file\'s defaults.channel rules out', async () => {
    const io = bufferIo();
    expect(await runValidate({ rules: 'test/fixtures/rules/shadowed-channel' }, io, deps())).toBe(0);
    expect(io.out).toBe('1 rule in 1 file OK; 0 examples hold\n');
    expect(io.err).toBe(
      'warning: test/fixtures/rules/shadowed-channel/rules.yaml:8:22: channel "facebook" here is never the event\'s channel: ' +
        'this file\'s defaults.channel (line) holds for the rule too, since it names no channel at the top of its when; write "channel:" at the top of the when to replace the default\n',
    );
  });

  it('fails with one FILE:LINE:COLUMN line per problem on stderr, nothing on stdout', async () => {
    const io = bufferIo();
    expect(await runValidate({ rules: 'test/fixtures/rules/invalid/many-problems' }, io, deps())).toBe(1);
    expect(io.out).toBe('');
    const lines = io.err.trimEnd().split('\n');
    expect(lines).toHaveLength(7);
    for (const l of lines) expect(l).toMatch(/^test\/fixtures\/rules\/invalid\/many-problems\/rules\.yaml:\d+:\d+: \S/);
  });

  it('keeps a problem on one line when what it quotes holds a line break (a bad regex written as a block)', async () => {
    const io = bufferIo();
    expect(await runValidate({ rules: 'test/fixtures/rules/invalid/regex-line-break' }, io, deps())).toBe(1);
    expect(io.err.endsWith('\n')).toBe(true);
    expect(io.err.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^test\/fixtures\/rules\/invalid\/regex-line-break\/rules\.yaml:5:16: bad regex "\(coupon\\n\|voucher\\n": Invalid regular expression: \/\(coupon\\n\|voucher\\n\/iu: Unterminated group$/),
    ]);
  });

  it('fails on a failing example, at the example\'s line', async () => {
    const io = bufferIo();
    expect(await runValidate({ rules: 'test/fixtures/rules/invalid/failing-example' }, io, deps())).toBe(1);
    expect(io.err).toMatch(/^test\/fixtures\/rules\/invalid\/failing-example\/rules\.yaml:9:9: example 2 of rule "coupon" expects match/);
    expect(io.err.trimEnd().split('\n')).toHaveLength(1);
  });

  it('prints a YAML syntax error the parser reports twice at one place on one line', async () => {
    // `[a }`: the parser reports the unclosed `{` twice at the same column.
    const io = bufferIo();
    expect(await runValidate({ rules: 'test/fixtures/rules/invalid/yaml-syntax-repeated' }, io, deps())).toBe(1);
    const file = 'test/fixtures/rules/invalid/yaml-syntax-repeated/rules.yaml';
    expect(io.err.trimEnd().split('\n')).toEqual([
      `${file}:3:34: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]`,
      `${file}:3:35: YAML syntax error: Flow map in block collection must be sufficiently indented and end with a }`,
    ]);
  });

  it('fails when the folder does not exist, naming it in full and what named it', async () => {
    const io = bufferIo();
    expect(await runValidate({ rules: 'no/such/dir' }, io, deps())).toBe(1);
    expect(io.err).toBe(`no/such/dir:1:1: cannot read the rules folder ${path.join(ROOT, 'no/such/dir')} (--rules): no such folder\n`);
    // Outside the working directory the relative name climbs (`../../x`): the absolute path and RULES_DIR say which folder.
    const outside = await runCli(['validate'], { RULES_DIR: '/no-such-rules-folder' });
    expect(outside).toMatchObject({ code: 1, stdout: '' });
    expect(outside.stderr).toBe(`${path.relative(ROOT, '/no-such-rules-folder')}:1:1: cannot read the rules folder /no-such-rules-folder (RULES_DIR): no such folder\n`);
  });

  it('counts columns on line 1 of a file saved with a UTF-8 byte order mark (Windows Notepad) as an editor shows them', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autotag-bom-'));
    try {
      const bom = '\ufeff';
      fs.mkdirSync(path.join(dir, 'rules'));
      fs.writeFileSync(path.join(dir, 'rules', 'a.yaml'), `${bom}colour: red\nrules: []\n`);
      // Not UTF-8 on line 1: the byte is said where the editor shows it too.
      fs.writeFileSync(path.join(dir, 'rules', 'b.yaml'), Buffer.concat([Buffer.from(`${bom}x: `), Buffer.from([0xa7, 0x41]), Buffer.from('\n')]));
      fs.writeFileSync(path.join(dir, 'channels.yaml'), `${bom}extra: 1\nchannels: []\n`);
      const r = await runCli(['validate', '--rules', path.join(dir, 'rules')], { CHANNELS_FILE: path.join(dir, 'channels.yaml') });
      expect(r.code).toBe(1);
      const rel = (f: string) => path.relative(ROOT, path.join(dir, f));
      expect(r.stderr.trimEnd().split('\n')).toEqual([
        `${rel('channels.yaml')}:1:1: unknown key "extra" in the channels file; expected one of accounts, channels`,
        `${rel('rules/a.yaml')}:1:1: unknown key "colour" in a rule file; expected one of defaults, rules`,
        expect.stringMatching(new RegExp(`^${rel('rules/b.yaml').replace(/[.]/g, '\\.')}:1:4: the file is not UTF-8 \\(bytes A7 41 here are not\\)`)),
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs as the real command: exit codes and streams', async () => {
    const ok = await runCli(['validate'], { RULES_DIR: 'rules' });
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    expect(ok.stdout).toMatch(/rules in 4 files OK/);

    // What serve would refuse in the environment is said as a warning; the rules still pass.
    const env = await runCli(['validate'], { RULES_DIR: 'rules', LOG_LEVEL: 'verbos' });
    expect(env).toMatchObject({ code: 0, stdout: ok.stdout });
    expect(env.stderr).toBe('warning: LOG_LEVEL: must be one of error, warn, info, http, verbose, debug, silly, got "verbos"; leave it unset for info (autotag serve refuses to start on it)\n');
    // A provider only partly configured is refused by serve as well.
    const partly = await runCli(['validate'], { RULES_DIR: 'rules', MANTAGO_TOKEN: 't' });
    expect(partly).toMatchObject({ code: 0, stdout: ok.stdout });
    expect(partly.stderr).toBe(
      'warning: MANTAGO_BOT_ID and MANTAGO_SECRET: not set, but MANTAGO_TOKEN is, so MantaGo is only partly configured (it needs MANTAGO_BOT_ID, MANTAGO_TOKEN and MANTAGO_SECRET); set MANTAGO_BOT_ID and MANTAGO_SECRET, or unset MANTAGO_TOKEN to leave MantaGo off (autotag serve refuses to start on it)\n',
    );

    const bad = await runCli(['validate', '--rules', 'test/fixtures/rules/invalid/duplicate-id']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toBe(
      'test/fixtures/rules/invalid/duplicate-id/b.yaml:7:9: duplicate id "coupon": already used at test/fixtures/rules/invalid/duplicate-id/a.yaml:4:9\n',
    );
  });
});
