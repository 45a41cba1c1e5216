import { evaluate, formatProblem, RuleSet } from '../../../src/rules';
import { parseRuleFile } from '../../../src/rules/parse-rule-file';

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
