import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatProblem, loadRuleSet } from '../../../src/rules';
import { parseRuleFile } from '../../../src/rules/parse-rule-file';
import { sortProblems } from '../../../src/rules/problems';
import { fixture, NOW, reported, ROOT } from './fixtures';

async function problemsOf(dir: string) {
  const result = await loadRuleSet(fixture('invalid', dir), { cwd: ROOT, now: NOW });
  return result;
}

describe('loader errors: each reported at FILE:LINE:COLUMN of the offending node', () => {
  const cases: [dir: string, file: string, line: number, column: number, message: RegExp][] = [
    ['unknown-key', 'rules.yaml', 5, 9, /^unknown key "contians" in text; did you mean "contains"\?$/],
    ['bad-regex', 'rules.yaml', 6, 22, /^bad regex "\(優惠\|coupon": Invalid regular expression.*Unterminated group/],
    ['unsupported-regex', 'rules.yaml', 6, 22, /^unsupported regex "\(\\\\w\+\) \\\\1": a backreference at character 7; rule regexes run on a linear-time engine/],
    ['costly-regex', 'rules.yaml', 5, 22, /^regex "\\\\p\{L\}\{1000\}!" is too costly: it compiles to 1003 instructions/],
    ['unknown-platform', 'rules.yaml', 6, 24, /^unknown platform "tiktok"; expected one of line, facebook, instagram, whatsapp$/],
    ['unknown-event', 'rules.yaml', 6, 14, /^unknown event "sticker"; expected one of message, postback, follow, unfollow$/],
    ['unknown-provider', 'rules.yaml', 6, 19, /^unknown provider "botbonie"; did you mean "botbonnie"\?$/],
    ['unknown-kind', 'rules.yaml', 7, 15, /^unknown kind "company"; expected one of personal, client$/],
    ['unknown-timezone', 'rules.yaml', 8, 19, /^unknown timezone "Asia\/Taipie"; did you mean "Asia\/Taipei"\?$/],
    ['unknown-default-timezone', 'rules.yaml', 3, 13, /^unknown timezone "Mars\/Olympus_Mons"; use an IANA name/],
    ['unknown-day', 'rules.yaml', 7, 26, /^unknown day "wendsday"; expected one of mon, tue, wed, thu, fri, sat, sun$/],
    ['bad-from', 'rules.yaml', 7, 15, /^badly formed from: use YYYY-MM-DD, YYYY-MM-DDTHH:MM or YYYY-MM-DDTHH:MM:SS/],
    ['bad-until', 'rules.yaml', 7, 16, /^badly formed until: /],
    ['bad-hours', 'rules.yaml', 7, 16, /^badly formed hours: use "HH:MM-HH:MM"/],
    ['no-provider', 'rules.yaml', 7, 9, /^the action has no provider/],
    ['remove-client-tag', 'rules.yaml', 7, 15, /^remove_tag cannot be used with kind: client/],
    ['no-rules-key', 'rules.yaml', 3, 1, /^unknown key "rule" in a rule file; did you mean "rules"\?$/],
    ['bad-for', 'rules.yaml', 7, 14, /^badly formed for: "1w": write a whole number and a unit s, m, h or d \(e\.g\. 7d, 12h, 30m\)$/],
    ['long-for', 'rules.yaml', 7, 14, /^for: 366d is longer than 365 days$/],
    ['remove-for', 'rules.yaml', 7, 14, /^for applies to add_tag only/],
    ['client-for', 'rules.yaml', 8, 14, /^for cannot be used with kind: client: MantaGo client tags cannot be removed/],
  ];

  it.each(cases)('%s', async (dir, file, line, column, message) => {
    const { problems, ruleSet } = await problemsOf(dir);
    expect(ruleSet).toBeUndefined();
    const match = problems.filter((p) => message.test(p.message));
    expect(match).toEqual([{ file: reported('invalid', dir, file), line, column, message: expect.any(String) }]);
    // Nothing else is wrong in these files, except a missing `rules:` next to the misspelt one.
    expect(problems).toHaveLength(dir === 'no-rules-key' ? 2 : 1);
  });

  it('a duplicate id is reported at the later one and names the earlier one', async () => {
    const { problems } = await problemsOf('duplicate-id');
    expect(problems.map(formatProblem)).toEqual([
      `${reported('invalid/duplicate-id/b.yaml')}:7:9: duplicate id "coupon": already used at ${reported('invalid/duplicate-id/a.yaml')}:4:9`,
    ]);
  });

  it('a YAML syntax error is reported where the parser found it', async () => {
    const { problems } = await problemsOf('yaml-syntax');
    expect(problems.length).toBeGreaterThanOrEqual(1);
    expect(problems[0]).toMatchObject({ file: reported('invalid/yaml-syntax/rules.yaml'), line: 3, column: 44 });
    expect(problems[0]!.message).toMatch(/^YAML syntax error: Flow sequence .* end with a \]/);
  });

  it('hours whose end is their start are called empty, not badly formed', () => {
    const text = 'defaults: { provider: mantago }\nrules:\n  - id: office\n    when: { schedule: { hours: "09:00-09:00" } }\n    then: [{ add_tag: t1 }]\n';
    expect(parseRuleFile(text, 'r.yaml').problems.map((p) => `${p.line}:${p.column}: ${p.message}`)).toEqual([
      '4:32: hours "09:00-09:00" are empty (the end is the start): write the hours when the rule may match, e.g. "09:00-18:00", or leave hours out for all day',
    ]);
  });

  it('a file of several YAML documents is refused in the file\'s terms, at the second one', () => {
    const { problems } = parseRuleFile('rules: []\n---\nrules: []\n', 'two.yaml');
    expect(problems).toEqual([
      { file: 'two.yaml', line: 2, column: 1, message: 'YAML syntax error: the file must hold one YAML document, and this one holds more (a line `---` starts another): put each in a file of its own' },
    ]);
  });

  it('a failing example is reported at the example, and leaves the rule set usable', async () => {
    const { problems, exampleFailures, ruleSet } = await problemsOf('failing-example');
    expect(problems).toEqual([]);
    expect(ruleSet?.rules.map((r) => r.id)).toEqual(['coupon']);
    expect(exampleFailures).toEqual([
      {
        file: reported('invalid/failing-example/rules.yaml'),
        line: 9,
        column: 9,
        message: expect.stringMatching(/^example 2 of rule "coupon" expects match but the rule does not match: message on line, text "優惠券"/),
      },
    ]);
  });

  it('runs the examples of a rule with a duplicate id or a bad action too (not of one whose when is broken)', async () => {
    const { problems, exampleFailures, ruleSet } = await problemsOf('examples-of-invalid-rules');
    const file = reported('invalid/examples-of-invalid-rules/rules.yaml');
    expect(ruleSet).toBeUndefined();
    expect(problems.map(formatProblem)).toEqual([
      `${file}:6:9: duplicate id "dup": already used at ${file}:3:9`,
      `${file}:13:12: an action has add_tag or remove_tag, not both: write two actions`,
      expect.stringMatching(new RegExp(`^${file}:18:28: unknown key "bogus" in when`)),
    ]);
    expect(exampleFailures.map((f) => `${formatProblem(f).replace(/, at .*/, '')}`)).toEqual([
      `${file}:10:9: example 1 of rule "dup" expects match but the rule does not match: message on line`,
      `${file}:16:9: example 2 of rule "bad-action" expects match but the rule does not match: message on line, text "hello"`,
    ]);
  });

  it('reports every problem of every file, not only the first', async () => {
    const { problems } = await problemsOf('many-problems');
    const file = reported('invalid/many-problems/rules.yaml');
    expect(problems.map(formatProblem)).toEqual([
      `${file}:2:9: duplicate id "first": already used at ${reported('invalid/many-problems/other.yml')}:2:9`,
      `${file}:3:5: unknown key "pririty" in a rule; did you mean "priority"?`,
      `${file}:4:23: unknown platform "tiktok"; expected one of line, facebook, instagram, whatsapp`,
      expect.stringMatching(new RegExp(`^${file}:7:28: bad regex "\\[": `)),
      expect.stringMatching(new RegExp(`^${file}:8:55: remove_tag cannot be used with kind: client`)),
      `${file}:9:9: an id holds only letters, digits, "-" and "_"`,
      expect.stringMatching(new RegExp(`^${file}:11:12: the action has no provider`)),
    ]);
  });

  it('a key named __proto__, constructor or prototype is an unknown key like any other, and its contents are never applied', () => {
    const text = `defaults: { __proto__: { provider: botbonnie } }
rules:
  - id: a
    __proto__: { enabled: false }
    prototype: 1
    when: { event: message, constructor: { event: follow }, text: { __proto__: { contains: x } } }
    then:
      - add_tag: t
        __proto__: { provider: botbonnie }
      - { add_tag: u, provider: mantago, constructor: x }
    examples:
      - { text: y, expect: match, __proto__: { expect: no_match } }
`;
    const { problems, rules } = parseRuleFile(text, 'rules.yaml');
    expect(rules).toEqual([]);
    expect(sortProblems(problems).map(formatProblem)).toEqual([
      'rules.yaml:1:13: unknown key "__proto__" in defaults; expected one of provider, timezone, channel',
      'rules.yaml:4:5: unknown key "__proto__" in a rule; expected one of id, description, enabled, priority, stop, when, then, examples',
      'rules.yaml:5:5: unknown key "prototype" in a rule; expected one of id, description, enabled, priority, stop, when, then, examples',
      'rules.yaml:6:29: unknown key "constructor" in when; expected one of platform, channel, event, text, postback, schedule, any, all, not',
      'rules.yaml:6:69: unknown key "__proto__" in text; expected one of contains, contains_all, equals, starts_with, regex, case_sensitive',
      // Not given a provider by the __proto__ beside it.
      expect.stringMatching(/^rules\.yaml:8:9: the action has no provider/),
      'rules.yaml:9:9: unknown key "__proto__" in an action; expected one of add_tag, remove_tag, provider, kind, for, account',
      'rules.yaml:10:42: unknown key "constructor" in an action; expected one of add_tag, remove_tag, provider, kind, for, account',
      'rules.yaml:12:35: unknown key "__proto__" in an example; expected one of text, event, data, platform, channel, at, expect',
    ]);
  });

  it('reports a missing rules folder instead of throwing', async () => {
    const result = await loadRuleSet(fixture('invalid', 'no-such-folder'), { cwd: ROOT, now: NOW });
    expect(result.ruleSet).toBeUndefined();
    expect(result.problems).toEqual([
      { file: reported('invalid/no-such-folder'), line: 1, column: 1, message: 'cannot read the rules folder: no such folder' },
    ]);
    // A problem that may pass by itself: the rule watcher reads again at its next check.
    expect(result.unreadable).toBe(true);
  });

  it('a file it can read whose rules are wrong is not unreadable (the watcher waits for the next change)', async () => {
    const result = await loadRuleSet(fixture('invalid'), { cwd: ROOT, now: NOW });
    expect(result.problems.length).toBeGreaterThan(0);
    expect(result.unreadable).toBeUndefined();
  });
});

describe('loader errors that say what was wrong', () => {
  const messages = (text: string) => parseRuleFile(text, 'rules.yaml').problems.map((p) => `${p.line}:${p.column}: ${p.message}`);

  it('an empty postback pattern says what it would match, as an empty text pattern does', () => {
    expect(messages('rules:\n  - id: a\n    when: { postback: { contains: "" } }\n    then: { add_tag: x, provider: mantago }\n')).toEqual([
      '3:35: an empty pattern would match all postback data',
    ]);
    expect(messages('rules:\n  - id: a\n    when: { postback: { starts_with: [ok, ""] } }\n    then: { add_tag: x, provider: mantago }\n')).toEqual([
      '3:43: an empty pattern would match all postback data',
    ]);
    // `equals: ""` (or the shorthand `postback: ""`) matches only empty data.
    expect(messages('rules:\n  - id: a\n    when: { postback: "" }\n    then: { add_tag: x, provider: mantago }\n')).toEqual([
      '3:23: an empty value would match only empty postback data: write the data to match',
    ]);
  });

  it('a key written with nothing after it needs a value; a missing expect is a missing key', () => {
    expect(messages('rules:\n  - id: a\n    when: {}\n    then:\n    examples:\n      - { text: hi }\n')).toEqual([
      '4:5: "then" needs a value',
      '6:9: missing required key "expect"',
    ]);
  });

  it('a BotBonnie-by-default action with kind: client is told so once, not also read as a MantaGo client tag', () => {
    const file = 'defaults: { provider: botbonnie }\nrules:\n  - id: a\n    when: {}\n    then: [{ remove_tag: x, kind: client }, { add_tag: y, kind: client, for: 1h }]\n';
    expect(messages(file)).toEqual([
      '5:35: kind client does not apply: BotBonnie (this file\'s default provider) has no client tags',
      '5:65: kind client does not apply: BotBonnie (this file\'s default provider) has no client tags',
    ]);
    // Named MantaGo, the same actions are MantaGo's reading.
    expect(messages(file.replace('botbonnie', 'mantago'))).toEqual([
      '5:35: remove_tag cannot be used with kind: client: MantaGo client tags cannot be removed (its API has no delete)',
      '5:78: for cannot be used with kind: client: MantaGo client tags cannot be removed (its API has no delete)',
    ]);
  });

  it('a duplicate id that comes through an alias is reported at the alias, naming the anchor', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autotag-alias-'));
    try {
      fs.writeFileSync(path.join(dir, 'h.yaml'), 'rules:\n  - &a { id: anc, when: {}, then: [{ add_tag: x, provider: mantago }] }\n  - *a\n');
      const { problems } = await loadRuleSet(dir, { cwd: dir, now: NOW });
      expect(problems.map(formatProblem)).toEqual(['h.yaml:3:5: duplicate id "anc": already used at h.yaml:2:14']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('rule files the YAML reader met unprepared (a fuzz of the files)', () => {
  const messages = (text: string) => parseRuleFile(text, 'rules.yaml').problems.map((p) => `${p.line}:${p.column}: ${p.message}`);
  const RULE = 'rules:\n  - id: a   # a*\n    when: {event: message}\n    then: [{add_tag: t, provider: mantago}]\n';

  it('a key without a value in a file that holds a `*` anywhere is a problem at its place, not a crash', () => {
    // `{expect}` is a key whose value is YAML's null; the alias scan (only run when the text holds a `*`) met it.
    expect(messages(`${RULE}    examples: [{text: hi, expect: no_match}, {expect}]\n`)).toEqual(['5:47: "expect" needs a value']);
    expect(messages(`${RULE}    examples:\n      - ? text\n        expect: match\n`)).toEqual(['6:11: "text" needs a value']);
  });

  it('a lone CR ends a line, as LF and CRLF do', () => {
    expect(messages(RULE.replace(/\n/g, '\r'))).toEqual([]);
    expect(messages(`${RULE}    stop: maybe\n`.replace(/\n/g, '\r'))).toEqual(['5:11: "stop" must be true or false, not "maybe"']);
  });

  it('a control character (U+0000 and the like) is refused where it is, saying how to write it', () => {
    expect(messages(RULE.replace('add_tag: t', 'add_tag: t\u0000x'))).toEqual([
      '4:23: YAML syntax error: U+0000 is a control character, which a YAML file may not hold (YAML 1.2 allows tab, line breaks and printable characters only): remove it, or write it as an escape inside double quotes ("\\u0000")',
    ]);
    // Tabs, NEL and a byte order mark are allowed.
    expect(messages(`\ufeff${RULE}`.replace('# a*', '#\ta*\u0085'))).toEqual([]);
  });

  it('a key written twice is named; an alias used as a key is the key it stands for; a complex key is said where it is', () => {
    expect(messages(`${RULE}    enabled: true\n    enabled: false\n`)).toEqual(['6:5: YAML syntax error: key "enabled" is written twice in this map: keep one']);
    expect(messages('x: &k when\nrules:\n  - id: a\n    *k : {event: message}\n    then: [{add_tag: t, provider: mantago}]\n')).toEqual(['1:1: unknown key "x" in a rule file; expected one of defaults, rules']);
    expect(messages('base: &b { add_tag: t, provider: mantago }\nrules:\n  - id: a\n    when: {}\n    then: [{ <<: *b }]\n')).toContain(
      '5:14: unknown key "<<" in an action: YAML 1.2 has no merge keys; write the keys out, or use an alias (*name) for a whole value',
    );
    // Written once as itself and once through an alias: a key written twice as well (it was taken silently, the later winning).
    expect(messages('rules:\n  - id: a\n    description: &w when\n    when: {event: postback}\n    *w : {event: message}\n    then: [{add_tag: t, provider: mantago}]\n')).toEqual([
      '5:5: YAML syntax error: key "when" is written twice in this map (here through the alias *w): keep one',
    ]);
    // JSON-style keys are named too.
    expect(messages('rules:\n  - id: a\n    when: {"event":message, "event":postback}\n    then: [{add_tag: t, provider: mantago}]\n')).toEqual([
      '3:29: YAML syntax error: key "event" is written twice in this map: keep one',
    ]);
    const complex = messages(`${RULE}    ? [x, y]\n    : 1\n`);
    expect(complex).toHaveLength(1);
    expect(complex[0]).toMatch(/^5:7: unknown key /);
  });

  it('a file not saved as UTF-8 is refused at its first byte that is not, saying so (it passed, its keywords turned to U+FFFD)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autotag-encoding-'));
    try {
      // 優惠券 in Big5, and UTF-16 with its byte order mark.
      const big5 = Buffer.concat([Buffer.from('rules:\n  - id: coupon\n    when: {text: {contains: ["'), Buffer.from([0xc0, 0x75, 0xb4, 0x66, 0xa8, 0x97]), Buffer.from('"]}}\n    then: [{add_tag: t, provider: mantago}]\n')]);
      fs.writeFileSync(path.join(dir, 'big5.yaml'), big5);
      fs.writeFileSync(path.join(dir, 'utf16.yaml'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('rules: []\n', 'utf16le')]));
      fs.writeFileSync(path.join(dir, 'ok.yaml'), 'rules:\n  - id: fine\n    when: {text: {contains: [優惠券]}}\n    then: [{add_tag: 優惠, provider: mantago}]\n');
      const { problems, ruleSet } = await loadRuleSet(dir, { cwd: dir, now: NOW });
      expect(ruleSet).toBeUndefined();
      expect(problems.map(formatProblem)).toEqual([
        'big5.yaml:3:31: the file is not UTF-8 (bytes C0 75 here are not): it was saved in another encoding (Big5, Shift_JIS, a Windows code page?); save it as UTF-8',
        'utf16.yaml:1:1: the file is UTF-16 (it starts with a UTF-16 byte order mark): save it as UTF-8',
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  it('a file saved as UTF-32 is named so, either way round (it was called UTF-16, or not UTF-8)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autotag-encoding-'));
    try {
      // "rules: []\n" in UTF-32, each with its byte order mark.
      const utf32 = (le: boolean) =>
        Buffer.concat(
          [...'\ufeffrules: []\n'].map((c) => {
            const b = Buffer.alloc(4);
            if (le) b.writeUInt32LE(c.codePointAt(0)!);
            else b.writeUInt32BE(c.codePointAt(0)!);
            return b;
          }),
        );
      fs.writeFileSync(path.join(dir, 'utf32be.yaml'), utf32(false));
      fs.writeFileSync(path.join(dir, 'utf32le.yaml'), utf32(true));
      const { problems, ruleSet } = await loadRuleSet(dir, { cwd: dir, now: NOW });
      expect(ruleSet).toBeUndefined();
      expect(problems.map(formatProblem)).toEqual([
        'utf32be.yaml:1:1: the file is UTF-32 BE (it starts with a UTF-32 BE byte order mark): save it as UTF-8',
        'utf32le.yaml:1:1: the file is UTF-32 LE (it starts with a UTF-32 LE byte order mark): save it as UTF-8',
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a long regex in a problem', () => {
  const messages = (text: string) => parseRuleFile(text, 'rules.yaml').problems.map((p) => p.message);
  const rule = (pattern: string) => `rules:\n  - id: a\n    when: { text: { regex: ${JSON.stringify(pattern)} } }\n    then: { add_tag: x, provider: mantago }\n`;

  it('is quoted by its start and length, not whole (a 50,000-character pattern made a 50 KB line)', () => {
    const costly = `(${Array.from({ length: 5000 }, (_, i) => `w${i}`).join('|')}){3}`;
    const [tooCostly] = messages(rule(costly));
    expect(tooCostly).toMatch(new RegExp(`^regex "\\(w0\\|w1\\|[^"]*…" \\(${costly.length.toLocaleString('en')} characters\\) is too costly: `));
    expect(tooCostly!.length).toBeLessThan(700);
    const [bad] = messages(rule(`(${'a'.repeat(50_000)}`));
    expect(bad).toMatch(/^bad regex "\(a{59}…" \(50,001 characters\): Invalid regular expression: \/…\/i?u: Unterminated group$/);
    const [unsupported] = messages(rule(`${'a'.repeat(50_000)}(?=b)`));
    expect(unsupported).toMatch(/^unsupported regex "a{60}…" \(50,005 characters\): the lookahead \(\?=…\) at character 50001; /);
    expect(unsupported!.length).toBeLessThan(700);
  });
});
