import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runPlayground } from '../../src/admin/playground';
import { runTest, type TestOptions } from '../../src/cli/test-command';
import { loadRuleSet } from '../../src/rules';
import { bufferIo, ROOT, runCli } from './cli-run';

const NOW = Date.parse('2026-06-15T12:00:00Z');
const deps = { env: { RULES_DIR: 'rules' }, now: () => NOW, cwd: ROOT };

async function run(opts: TestOptions) {
  const io = bufferIo();
  const code = await runTest(opts, io, deps);
  return { code, out: io.out, err: io.err };
}

async function json(opts: TestOptions) {
  const r = await run({ ...opts, json: true });
  expect(r.code).toBe(0);
  expect(r.out.endsWith('\n')).toBe(true);
  expect(r.out.trimEnd().split('\n')).toHaveLength(1);
  return JSON.parse(r.out) as { matched: string[]; operations: Record<string, string>[] };
}

describe('autotag test', () => {
  it('--json prints exactly the matched rules and operations (kind only for MantaGo)', async () => {
    expect(await json({ text: '我要優惠券' })).toEqual({
      matched: ['coupon-request'],
      operations: [{ action: 'add', provider: 'mantago', kind: 'personal', tagId: 'REPLACE-WITH-COUPON-TAG-ID' }],
    });
    expect(await json({ event: 'unfollow' })).toEqual({
      matched: ['churned'],
      operations: [
        { action: 'remove', provider: 'mantago', kind: 'personal', tagId: 'REPLACE-WITH-FOLLOWER-TAG-ID' },
        { action: 'add', provider: 'botbonnie', tagId: 'REPLACE-WITH-BOTBONNIE-CHURNED-TAG-ID' },
      ],
    });
  });

  it('keeps the key order of the contract', async () => {
    const r = await run({ event: 'unfollow', json: true });
    expect(r.out).toBe(
      '{"matched":["churned"],"operations":[{"action":"remove","provider":"mantago","kind":"personal","tagId":"REPLACE-WITH-FOLLOWER-TAG-ID"},' +
        '{"action":"add","provider":"botbonnie","tagId":"REPLACE-WITH-BOTBONNIE-CHURNED-TAG-ID"}]}\n',
    );
  });

  it('leaves out BotBonnie operations for Instagram users', async () => {
    expect(await json({ event: 'unfollow', platform: 'instagram' })).toEqual({
      matched: ['churned'],
      operations: [{ action: 'remove', provider: 'mantago', kind: 'personal', tagId: 'REPLACE-WITH-FOLLOWER-TAG-ID' }],
    });
  });

  it('takes --platform whatsapp, and leaves out BotBonnie operations for WhatsApp users', async () => {
    expect(await json({ text: '我要優惠券', platform: 'whatsapp' })).toEqual({
      matched: ['coupon-request'],
      operations: [{ action: 'add', provider: 'mantago', kind: 'personal', tagId: 'REPLACE-WITH-COUPON-TAG-ID' }],
    });
    expect(await json({ event: 'unfollow', platform: 'whatsapp' })).toEqual({
      matched: ['churned'],
      operations: [{ action: 'remove', provider: 'mantago', kind: 'personal', tagId: 'REPLACE-WITH-FOLLOWER-TAG-ID' }],
    });
    const table = await run({ event: 'unfollow', platform: 'whatsapp' });
    expect(table.out).toContain('Left out (1):\n  add botbonnie tag REPLACE-WITH-BOTBONNIE-CHURNED-TAG-ID: whatsapp users are not BotBonnie users (BotBonnie tags line and facebook users)');
  });

  it('evaluates postbacks and schedules at --at', async () => {
    expect((await json({ event: 'postback', data: 'action=subscribe', platform: 'facebook' })).matched).toEqual(['subscribe']);
    expect((await json({ text: '雙12', at: '2026-12-10T15:00:00+08:00' })).matched).toEqual(['double-12-interest']);
    expect((await json({ text: '雙12', at: '2026-12-12T23:00:00+08:00' })).matched).toEqual(['double-12-interest', 'double-12-night-owls']);
    expect((await json({ text: '雙12', at: '2026-12-12T16:30:00Z' })).matched).toEqual([]);
  });

  it('shows the lifetime of an add as the rule wrote it ("for")', async () => {
    const r = await run({ text: '雙12', at: '2026-12-10T15:00:00+08:00', json: true });
    expect(r.out).toBe(
      '{"matched":["double-12-interest"],"operations":[{"action":"add","provider":"mantago","kind":"personal","tagId":"REPLACE-WITH-DOUBLE-12-TAG-ID","for":"30d"}]}\n',
    );
    const table = await run({ text: '雙12', at: '2026-12-10T15:00:00+08:00' });
    expect(table.out).toMatch(/ACTION\s+PROVIDER\s+KIND\s+TAG\s+FOR\n/);
    expect(table.out).toMatch(/add\s+mantago\s+personal\s+REPLACE-WITH-DOUBLE-12-TAG-ID\s+30d\n/);
  });

  it('lists one operation per tag and account, the first rule\'s, as serve sends them (and the admin playground shows them)', async () => {
    const rules = 'test/fixtures/rules/same-tag-named-account';
    const expected = {
      matched: ['first', 'second'],
      operations: [
        { action: 'add', provider: 'mantago', kind: 'personal', tagId: 'z', account: 'mantago' },
        { action: 'add', provider: 'mantago', kind: 'personal', tagId: 'd' },
        { action: 'add', provider: 'mantago', kind: 'personal', tagId: 'e' },
      ],
    };
    expect(await json({ rules })).toEqual(expected);
    const table = (await run({ rules })).out;
    expect(table).toContain('Tag operations (3):');
    expect(table).not.toMatch(/remove/);
    const { ruleSet } = await loadRuleSet(rules, { cwd: ROOT, now: NOW });
    const playground = runPlayground(ruleSet!, {}, NOW);
    expect({ matched: playground.matched, operations: playground.operations }).toEqual(expected);
  });

  it('leaves out what the event kind cannot carry, as serve would, and says so (a follow has no text, a postback no text)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autotag-test-kinds-'));
    try {
      fs.writeFileSync(
        path.join(dir, 'r.yaml'),
        'rules:\n  - { id: text-any-kind, when: { text: { contains: 優惠券 } }, then: [ { add_tag: t, provider: mantago } ] }\n  - { id: vip-any-kind, when: { postback: VIP }, then: [ { add_tag: v, provider: mantago } ] }\n',
      );
      const follow = await run({ rules: dir, event: 'follow', text: '我要優惠券', data: 'VIP', json: true });
      expect(follow.code).toBe(0);
      expect(JSON.parse(follow.out)).toEqual({ matched: [], operations: [] });
      expect(follow.err.split('\n').filter(Boolean)).toEqual([
        'warning: the text is left out: a follow event has no text (only a message has), so no text condition matches it (--event follow)',
        'warning: the postback data is left out: a follow event has none (a postback or a quick-reply message has), so no postback condition matches it (--event follow)',
      ]);
      const postback = await run({ rules: dir, event: 'postback', text: '我要優惠券', data: 'VIP', json: true });
      expect(JSON.parse(postback.out).matched).toEqual(['vip-any-kind']);
      expect(postback.err).toContain('warning: the text is left out: a postback event has no text');
      const message = await run({ rules: dir, text: '我要優惠券', data: 'VIP', json: true });
      expect(JSON.parse(message.out).matched).toEqual(['text-any-kind', 'vip-any-kind']);
      expect(message.err).toBe('');
      // The playground the same way, with the same words as a note.
      const { ruleSet } = await loadRuleSet(dir, { cwd: ROOT, now: NOW });
      const played = runPlayground(ruleSet!, { event: 'unfollow', text: '我要優惠券', data: 'VIP' }, NOW);
      expect(played.matched).toEqual([]);
      expect(played.notes).toHaveLength(2);
      expect(played.notes[0]).toBe('the text is left out: an unfollow event has no text (only a message has), so no text condition matches it');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 0 with empty lists when nothing matches, and without --text', async () => {
    expect(await json({ text: 'hello' })).toEqual({ matched: [], operations: [] });
    expect(await json({})).toEqual({ matched: [], operations: [] });
  });

  it('prints a readable table without --json', async () => {
    const r = await run({ text: 'ＣＯＵＰＯＮ 會員折扣', at: '2026-06-01T00:00:00Z' });
    expect(r.code).toBe(0);
    expect(r.out).toContain('Event: message on line, text "ＣＯＵＰＯＮ 會員折扣", at 2026-06-01T00:00:00.000Z');
    expect(r.out).toMatch(/Matched 2 rules \(in evaluation order\):\n\s+#\s+RULE\s+PRIORITY\s+WHERE\n/);
    expect(r.out).toMatch(/1\s+coupon-request\s+10\s+rules\/coupon\.yaml:15/);
    expect(r.out).toMatch(/2\s+vip-coupon\s+0\s+rules\/coupon\.yaml:\d+/);
    expect(r.out).toMatch(/ACTION\s+PROVIDER\s+KIND\s+TAG\s+FOR/);
    expect(r.out).toMatch(/add\s+mantago\s+personal\s+REPLACE-WITH-VIP-INTEREST-TAG-ID\s+-\n/);
    const none = await run({ text: 'hello' });
    expect(none.out).toContain('No rule matched');
    const ig = await run({ event: 'follow', platform: 'instagram' });
    expect(ig.out).toContain('Left out (1):\n  remove botbonnie tag REPLACE-WITH-BOTBONNIE-CHURNED-TAG-ID: instagram users are not BotBonnie users (BotBonnie tags line and facebook users)');
  });

  it('exits 1 on bad arguments, with a message', async () => {
    for (const [opts, message] of [
      [{ at: '2026-12-05T10:00:00' }, /--at "2026-12-05T10:00:00" is not an ISO 8601 time with an offset/],
      [{ at: 'tomorrow' }, /--at "tomorrow"/],
      [{ at: '2026-02-30T10:00:00Z' }, /--at "2026-02-30T10:00:00Z"/],
      [{ platform: 'tiktok' }, /--platform: unknown platform "tiktok": use line, facebook, instagram, whatsapp$/m],
      [{ event: 'sticker' }, /^autotag test: --event: unknown event "sticker": use message, postback, follow, unfollow/],
    ] as [TestOptions, RegExp][]) {
      const r = await run({ ...opts, json: true });
      expect(r.code).toBe(1);
      expect(r.out).toBe('');
      expect(r.err).toMatch(message);
    }
  });

  it('exits 1 on invalid rules, with the problems on stderr', async () => {
    const r = await run({ text: 'x', json: true, rules: 'test/fixtures/rules/invalid/unknown-key' });
    expect(r).toEqual({
      code: 1,
      out: '',
      err: 'test/fixtures/rules/invalid/unknown-key/rules.yaml:5:9: unknown key "contians" in text; did you mean "contains"?\n',
    });
  });

  it('goes on past failing examples, mentioning them on stderr', async () => {
    const r = await run({ text: 'coupon', json: true, rules: 'test/fixtures/rules/invalid/failing-example' });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({
      matched: ['coupon'],
      operations: [{ action: 'add', provider: 'mantago', kind: 'personal', tagId: 't1' }],
    });
    expect(r.err).toMatch(/^warning: 1 example of the rules does not hold \(see autotag validate\):\n/);
    expect(r.err).toMatch(/test\/fixtures\/rules\/invalid\/failing-example\/rules\.yaml:9:9: example 2/);
  });

  it('warns, as validate does, of what serve would refuse in the environment (a misspelt LOG_LEVEL, a provider partly configured), and still runs', async () => {
    const io = bufferIo();
    const env = { RULES_DIR: 'rules', LOG_LEVEL: 'verbos', MANTAGO_TOKEN: 't' };
    expect(await runTest({ text: '我要優惠券', json: true }, io, { ...deps, env })).toBe(0);
    expect(JSON.parse(io.out)).toEqual(await json({ text: '我要優惠券' }));
    expect(io.err).toBe(
      'warning: LOG_LEVEL: must be one of error, warn, info, http, verbose, debug, silly, got "verbos"; leave it unset for info (autotag serve refuses to start on it)\n' +
        'warning: MANTAGO_BOT_ID and MANTAGO_SECRET: not set, but MANTAGO_TOKEN is, so MantaGo is only partly configured (it needs MANTAGO_BOT_ID, MANTAGO_TOKEN and MANTAGO_SECRET); set MANTAGO_BOT_ID and MANTAGO_SECRET, or unset MANTAGO_TOKEN to leave MantaGo off (autotag serve refuses to start on it)\n',
    );
  });

  it('runs as the real command', async () => {
    // --at pinned: the shipped rules include a scheduled campaign (see test/clock/).
    const r = await runCli(['test', '--text', '我要優惠券', '--platform', 'facebook', '--at', '2026-06-15T12:00:00Z', '--json'], { RULES_DIR: 'rules' });
    expect(r).toEqual({
      code: 0,
      stderr: '',
      stdout: '{"matched":["coupon-request"],"operations":[{"action":"add","provider":"mantago","kind":"personal","tagId":"REPLACE-WITH-COUPON-TAG-ID"}]}\n',
    });
    // The same warning as validate's for a LOG_LEVEL serve refuses; the JSON on stdout is unchanged.
    const level = await runCli(['test', '--text', '我要優惠券', '--platform', 'facebook', '--at', '2026-06-15T12:00:00Z', '--json'], { RULES_DIR: 'rules', LOG_LEVEL: 'verbos' });
    expect(level).toEqual({
      code: 0,
      stderr: (await runCli(['validate'], { RULES_DIR: 'rules', LOG_LEVEL: 'verbos' })).stderr,
      stdout: r.stdout,
    });
    expect(level.stderr).toMatch(/^warning: LOG_LEVEL: .*"verbos".*\(autotag serve refuses to start on it\)\n$/);
    const bad = await runCli(['test', '--text', 'x', '--at', '2026-12-05T10:00:00', '--json']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/with an offset/);
  });
});
