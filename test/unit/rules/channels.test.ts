import { evaluate, formatProblem, RuleSet, type RuleCatalogue } from '../../../src/rules';
import { checkExamples } from '../../../src/rules/examples';
import { parseRuleFile } from '../../../src/rules/parse-rule-file';
import { CATALOGUE } from './fixtures';

const parse = (text: string, catalogue: RuleCatalogue | null = CATALOGUE) => parseRuleFile(text, 'rules.yaml', catalogue ?? undefined);
const problems = (text: string) => parse(text).problems.map(formatProblem);
const ruleSet = (text: string) => {
  const parsed = parse(text);
  if (parsed.problems.length) throw new Error(parsed.problems.map(formatProblem).join('\n'));
  return new RuleSet(parsed.rules);
};
const message = (channel: string | undefined, text = 'coupon', platform: 'line' | 'facebook' = 'line') => ({
  platform,
  ...(channel !== undefined ? { channel } : {}),
  kind: 'message' as const,
  text,
  timestamp: 0,
});

describe('rules per channel', () => {
  it('when.channel holds for the channels it names (one or a list); without a channel an event is on its platform\'s environment channel', () => {
    const set = ruleSet(`defaults: { provider: mantago }
rules:
  - id: a-only
    when: { channel: brand-a-line, text: { contains: coupon } }
    then: [{ add_tag: ta }]
  - id: a-or-env
    when: { channel: [brand-a-line, line], text: { contains: coupon } }
    then: [{ add_tag: tb }]
`);
    expect(evaluate(set, message('brand-a-line')).matched).toEqual(['a-only', 'a-or-env']);
    expect(evaluate(set, message('line')).matched).toEqual(['a-or-env']);
    expect(evaluate(set, message(undefined)).matched).toEqual(['a-or-env']);
    expect(evaluate(set, message('brand-b-meta', 'coupon', 'facebook')).matched).toEqual([]);
  });

  it('defaults.channel holds for every rule of the file, unless a rule names its own at the top of its when', () => {
    const set = ruleSet(`defaults: { provider: mantago, channel: [brand-b-meta] }
rules:
  - id: by-default
    when: { text: { contains: coupon } }
    then: [{ add_tag: t1 }]
  - id: own
    when: { channel: brand-a-line, text: { contains: coupon } }
    then: [{ add_tag: t2 }]
`);
    expect(set.rules.find((r) => r.id === 'by-default')!.definition.when.channel).toEqual(['brand-b-meta']);
    expect(evaluate(set, message('brand-b-meta', 'coupon', 'facebook')).matched).toEqual(['by-default']);
    expect(evaluate(set, message('brand-a-line')).matched).toEqual(['own']);
    expect(evaluate(set, message('line')).matched).toEqual([]);
  });

  it('warns (and only warns) at a channel inside any/all/not that the file\'s defaults.channel rules out: the default still holds for such a rule', () => {
    const text = `defaults: { provider: mantago, channel: brand-a-line }
rules:
  - id: either
    when:
      any:
        - { channel: line }
        - { channel: [brand-a-line, brand-b-meta] }
    then: [{ add_tag: t1 }]
  - id: nested
    when: { all: [ { text: { contains: coupon } }, { not: { channel: facebook } } ] }
    then: [{ add_tag: t2 }]
  - id: own
    when: { channel: line, any: [ { channel: line } ] }
    then: [{ add_tag: t3 }]
`;
    const parsed = parse(text);
    expect(parsed.problems).toEqual([]);
    const replace = 'holds for the rule too, since it names no channel at the top of its when; write "channel:" at the top of the when to replace the default';
    expect(parsed.warnings.map(formatProblem)).toEqual([
      `rules.yaml:6:22: channel "line" here is never the event's channel: this file's defaults.channel (brand-a-line) ${replace}`,
      `rules.yaml:7:37: channel "brand-b-meta" here is never the event's channel: this file's defaults.channel (brand-a-line) ${replace}`,
      `rules.yaml:10:70: channel "facebook" here is never the event's channel: this file's defaults.channel (brand-a-line) ${replace}`,
    ]);
    // What the warning says: the rule matches on the default's channel only.
    const set = new RuleSet(parsed.rules);
    expect(evaluate(set, message('line')).matched).toEqual(['own']);
    expect(evaluate(set, message('brand-a-line')).matched).toEqual(['either', 'nested']);
    // Without a default channel, nothing to warn about.
    expect(parse(text.replace(', channel: brand-a-line', '')).warnings).toEqual([]);
  });

  it('an action may name an account; the same tag named in two accounts is two actions', () => {
    const set = ruleSet(`defaults: { provider: mantago }
rules:
  - id: r1
    when: { text: { contains: coupon } }
    then: [{ add_tag: t, account: brand-a }, { add_tag: t }]
  - id: r2
    when: { text: { contains: coupon } }
    then: [{ remove_tag: t, account: brand-a }, { add_tag: bb, provider: botbonnie, account: brand-b }]
`);
    expect(evaluate(set, message('line')).actions).toEqual([
      { action: 'add', provider: 'mantago', kind: 'personal', tagId: 't', account: 'brand-a' },
      { action: 'add', provider: 'mantago', kind: 'personal', tagId: 't' },
      { action: 'add', provider: 'botbonnie', kind: 'personal', tagId: 'bb', account: 'brand-b' },
    ]);
  });

  it('refuses a channel or an account that does not exist, and an account of another provider, each at its place', () => {
    expect(
      problems(`defaults: { provider: mantago, channel: [brand-a-lin] }
rules:
  - id: r
    when: { any: [{ channel: brand-c }, { not: { channel: [line, facebok] } }] }
    then:
      - { add_tag: t, account: brand-x }
      - { add_tag: t2, account: brand-b }
      - { add_tag: t3, provider: botbonnie, account: brand-b }
    examples:
      - { text: coupon, channel: brand-a-line, platform: facebook, expect: match }
      - { text: coupon, channel: nowhere, expect: match }
`),
    ).toEqual([
      'rules.yaml:1:42: unknown channel "brand-a-lin"; did you mean "brand-a-line"?; the channels of channels.yaml and the environment\'s: line, facebook, whatsapp, brand-a-line, brand-b-meta',
      'rules.yaml:4:30: unknown channel "brand-c"; the channels of channels.yaml and the environment\'s: line, facebook, whatsapp, brand-a-line, brand-b-meta',
      'rules.yaml:4:66: unknown channel "facebok"; did you mean "facebook"?; the channels of channels.yaml and the environment\'s: line, facebook, whatsapp, brand-a-line, brand-b-meta',
      'rules.yaml:6:32: unknown account "brand-x"; did you mean "brand-a"?; the accounts of channels.yaml and the environment\'s: mantago, botbonnie, brand-a, brand-b',
      'rules.yaml:7:33: account brand-b is a BotBonnie account, but this action\'s provider is mantago',
      'rules.yaml:10:34: channel brand-a-line does not receive facebook webhooks (it receives line)',
      'rules.yaml:11:34: unknown channel "nowhere"; the channels of channels.yaml and the environment\'s: line, facebook, whatsapp, brand-a-line, brand-b-meta',
    ]);
  });

  it('a bad value in defaults hides none of the rules\' other problems, only the checks that need that value', () => {
    const rules = `rules:
  - id: a
    when: { channel: ghost-channel }
    then:
      - { add_tag: x, account: ghost-account }
      - { add_tag: y, provider: botbonnie, account: brand-a }
      - { add_tag: z, account: brand-b }
      - { add_tag: w, provider: mantago, kind: client }
    examples:
      - { text: coupon, channel: nowhere, expect: match }
`;
    const others = [
      'rules.yaml:4:22: unknown channel "ghost-channel"; the channels of channels.yaml and the environment\'s: line, facebook, whatsapp, brand-a-line, brand-b-meta',
      'rules.yaml:6:32: unknown account "ghost-account"; the accounts of channels.yaml and the environment\'s: mantago, botbonnie, brand-a, brand-b',
      "rules.yaml:7:53: account brand-a is a MantaGo account, but this action's provider is botbonnie",
    ];
    const example = 'rules.yaml:11:34: unknown channel "nowhere"; the channels of channels.yaml and the environment\'s: line, facebook, whatsapp, brand-a-line, brand-b-meta';
    // A misspelt timezone: the default provider still holds, so an account of another provider is still found.
    expect(problems(`defaults: { provider: mantago, timezone: Asia/Taipe }\n${rules}`)).toEqual([
      'rules.yaml:1:42: unknown timezone "Asia/Taipe"; did you mean "Asia/Taipei"?',
      ...others,
      "rules.yaml:8:32: account brand-b is a BotBonnie account, but this action's provider is mantago",
      example,
    ]);
    // A bad provider: what needs the default provider is left out (an action without one, an account's provider).
    expect(problems(`defaults: { provider: mantgo, timezone: Asia/Taipei }\n${rules}`)).toEqual([
      'rules.yaml:1:23: unknown provider "mantgo"; did you mean "mantago"?',
      ...others,
      example,
    ]);
    // An unknown key in defaults breaks no default.
    expect(problems(`defaults: { provider: mantago, tz: UTC }\n${rules}`)).toEqual([
      expect.stringMatching(/^rules\.yaml:1:32: unknown key "tz" in defaults/),
      ...others,
      "rules.yaml:8:32: account brand-b is a BotBonnie account, but this action's provider is mantago",
      example,
    ]);
  });

  it('without a catalogue (one file as an editor sees it) checks the form of the names only', () => {
    const text = `defaults: { provider: mantago }
rules:
  - id: r
    when: { channel: anything-at-all }
    then: [{ add_tag: t, account: some-account }]
`;
    expect(parse(text, null).problems).toEqual([]);
    expect(parse(text.replace('anything-at-all', '"not ok"'), null).problems.map(formatProblem)).toEqual([
      'rules.yaml:4:22: a channel id holds only letters (a-z, A-Z), digits, "-" and "_"',
    ]);
  });

  it('runs each example on a channel: its own, else the rule\'s first that receives its platform (a channel alone brings its platform)', () => {
    const parsed = parse(`defaults: { provider: mantago }
rules:
  - id: meta-coupon
    when: { channel: [brand-b-meta], text: { contains: coupon } }
    then: [{ add_tag: t }]
    examples:
      - { text: coupon, expect: match }
      - { text: coupon, platform: whatsapp, expect: match }
      - { text: coupon, channel: brand-a-line, expect: no_match }
      - { text: coupon, platform: line, expect: no_match }
`);
    expect(parsed.problems).toEqual([]);
    const examples = parsed.rules[0]!.examples.map((e) => [e.platform, e.channel]);
    expect(examples).toEqual([
      ['facebook', 'brand-b-meta'],
      ['whatsapp', 'brand-b-meta'],
      ['line', 'brand-a-line'],
      ['line', 'line'],
    ]);
    expect(checkExamples(new RuleSet(parsed.rules), 0)).toEqual([]);
  });

  it('reports an example that fails on its channel, naming the channel', () => {
    const parsed = parse(`defaults: { provider: mantago }
rules:
  - id: a-line
    when: { channel: brand-a-line, text: { contains: coupon } }
    then: [{ add_tag: t }]
    examples:
      - { text: coupon, channel: line, expect: match }
`);
    expect(checkExamples(new RuleSet(parsed.rules), 0).map(formatProblem)).toEqual([
      'rules.yaml:7:9: example 1 of rule "a-line" expects match but the rule does not match: message on line, text "coupon", at 1970-01-01T00:00:00.000Z',
    ]);
    const other = parse(`defaults: { provider: mantago }
rules:
  - id: env-line
    when: { channel: line, text: { contains: coupon } }
    then: [{ add_tag: t }]
    examples:
      - { text: coupon, channel: brand-a-line, expect: match }
`);
    expect(checkExamples(new RuleSet(other.rules), 0).map((p) => p.message)).toEqual([
      'example 1 of rule "env-line" expects match but the rule does not match: message on line (channel brand-a-line), text "coupon", at 1970-01-01T00:00:00.000Z',
    ]);
  });
});
