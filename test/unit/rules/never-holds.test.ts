import { evaluate, formatProblem, RuleSet } from '../../../src/rules';
import { parseRuleFile } from '../../../src/rules/parse-rule-file';
import { CATALOGUE } from './fixtures';

const parse = (text: string) => parseRuleFile(text, 'rules.yaml');

describe('conditions that can never hold beside the rule\'s event', () => {
  it('warns (and only warns) at a text condition on events without text, and a postback condition on follow or unfollow', () => {
    const parsed = parse(`defaults: { provider: mantago }
rules:
  - id: postback-text
    when: { event: postback, text: { contains: coupon } }
    then: [{ add_tag: t1 }]
  - id: follow-data
    when: { event: [follow, unfollow], postback: action=join }
    then: [{ add_tag: t2 }]
  - id: meant
    when: { event: postback, postback: { contains: coupon } }
    then: [{ add_tag: t3 }]
  - id: quick-reply
    when: { event: [message, follow], text: { equals: yes }, postback: answer=yes }
    then: [{ add_tag: t4 }]
  - id: any-kind
    when: { text: { contains: coupon } }
    then: [{ add_tag: t5 }]
`);
    expect(parsed.problems).toEqual([]);
    expect(parsed.warnings.map(formatProblem)).toEqual([
      'rules.yaml:4:36: this text condition can never hold: only a message event has text, and this rule\'s event is postback',
      'rules.yaml:7:50: this postback condition can never hold: a follow, unfollow event has no postback data (a postback has, and a message answering a quick reply)',
    ]);
    // What the warnings say: those two rules match nothing; the others do.
    const set = new RuleSet(parsed.rules);
    const at = Date.now();
    const base = { platform: 'line' as const, channel: 'line', timestamp: at };
    expect(evaluate(set, { ...base, kind: 'postback', postbackData: 'coupon' }).matched).toEqual(['meant']);
    expect(evaluate(set, { ...base, kind: 'follow' }).matched).toEqual([]);
    expect(evaluate(set, { ...base, kind: 'message', text: 'yes', postbackData: 'answer=yes' }).matched).toEqual(['quick-reply']);
  });
});

describe('a platform condition the rule\'s channels never receive', () => {
  const withChannels = (text: string) => parseRuleFile(text, 'rules.yaml', CATALOGUE);

  it('warns (and only warns) at the platform condition when no platform it names comes in on the rule\'s channels', () => {
    const parsed = withChannels(`defaults: { provider: mantago }
rules:
  - id: whatsapp-on-line
    when: { platform: whatsapp, channel: brand-a-line }
    then: [{ add_tag: t1 }]
  - id: meta-on-lines
    when: { channel: [brand-a-line, line], platform: [facebook, instagram] }
    then: [{ add_tag: t2 }]
`);
    expect(parsed.problems).toEqual([]);
    expect(parsed.warnings.map(formatProblem)).toEqual([
      'rules.yaml:4:23: this platform condition can never hold: the rule\'s channel brand-a-line receives only line webhooks, and this rule\'s platform is whatsapp',
      'rules.yaml:7:54: this platform condition can never hold: the rule\'s channels brand-a-line, line receive only line webhooks, and this rule\'s platform is facebook, instagram',
    ]);
    // What the warnings say: an event on those channels is a LINE event, which neither rule takes.
    const set = new RuleSet(parsed.rules);
    for (const channel of ['brand-a-line', 'line']) {
      expect(evaluate(set, { platform: 'line', channel, kind: 'message', text: 'hi', timestamp: Date.now() }).matched).toEqual([]);
    }
  });

  it('judges a rule without a channel of its own against the file\'s defaults.channel', () => {
    const parsed = withChannels(`defaults: { provider: mantago, channel: [brand-a-line] }
rules:
  - id: whatsapp-by-default
    when: { platform: [whatsapp] }
    then: [{ add_tag: t1 }]
`);
    expect(parsed.problems).toEqual([]);
    expect(parsed.warnings.map(formatProblem)).toEqual([
      'rules.yaml:4:23: this platform condition can never hold: this file\'s defaults.channel (brand-a-line) receives only line webhooks, and this rule\'s platform is whatsapp',
    ]);
  });

  it('says nothing where the platform and the channel can meet, or where there is no channel to judge by', () => {
    const parsed = withChannels(`defaults: { provider: mantago }
rules:
  - id: whatsapp-on-meta
    when: { platform: whatsapp, channel: brand-b-meta }
    then: [{ add_tag: t1 }]
  - id: one-of-the-list
    when: { platform: [whatsapp, line], channel: brand-a-line }
    then: [{ add_tag: t2 }]
  - id: one-of-the-channels
    when: { platform: whatsapp, channel: [brand-a-line, whatsapp] }
    then: [{ add_tag: t3 }]
  - id: any-channel
    when: { platform: instagram }
    then: [{ add_tag: t4 }]
`);
    expect(parsed.problems).toEqual([]);
    expect(parsed.warnings).toEqual([]);
  });

  it('adds no warning to a channel that is not declared (that is an error of its own), nor where no channels file is known', () => {
    const text = `defaults: { provider: mantago }
rules:
  - id: nowhere
    when: { platform: whatsapp, channel: brand-c-line }
    then: [{ add_tag: t1 }]
`;
    const parsed = withChannels(text);
    expect(parsed.problems.map(formatProblem)).toEqual([expect.stringMatching(/^rules\.yaml:4:42: unknown channel "brand-c-line"/)]);
    expect(parsed.warnings).toEqual([]);
    expect(parse(text).warnings).toEqual([]);
  });
});
