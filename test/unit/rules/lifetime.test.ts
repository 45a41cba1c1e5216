import { parseLifetime } from '../../../src/rules/lifetime';
import { parseRuleFile } from '../../../src/rules/parse-rule-file';
import { RuleSet, evaluate } from '../../../src/rules';

describe('for: (tag lifetimes)', () => {
  it('reads a whole number and a unit, from 1s to 365d', () => {
    expect(parseLifetime('1s')).toEqual({ ms: 1000 });
    expect(parseLifetime('90m')).toEqual({ ms: 90 * 60_000 });
    expect(parseLifetime('36h')).toEqual({ ms: 36 * 3_600_000 });
    expect(parseLifetime('365d')).toEqual({ ms: 365 * 86_400_000 });
    expect(parseLifetime('8760h')).toEqual({ ms: 365 * 86_400_000 });
    expect(parseLifetime('0s')).toEqual({ problem: 'for: 0s is no lifetime: the shortest is 1s (leave for: out to keep the tag for good)' });
    expect(parseLifetime('00d')).toEqual({ problem: expect.stringMatching(/^for: 00d is no lifetime/) });
    for (const bad of ['07d', '7', 'd', '7D', '1.5h', ' 7d', '7d ', '1w', '-1d', '']) {
      expect(parseLifetime(bad)).toEqual({ problem: expect.stringMatching(/^badly formed for: /) });
    }
    expect(parseLifetime('366d')).toEqual({ problem: 'for: 366d is longer than 365 days' });
    expect(parseLifetime('525601m')).toEqual({ problem: 'for: 525601m is longer than 365 days' });
    expect(parseLifetime('99999999999999999999999d')).toEqual({ problem: expect.stringMatching(/longer than 365 days/) });
  });

  it('puts the lifetime, as written and in ms, with its rule on the add', () => {
    const parsed = parseRuleFile(
      `defaults: { provider: mantago }
rules:
  - id: trial
    when: { text: { contains: trial } }
    then:
      - add_tag: tag-trial
        for: 7d
      - add_tag: tag-seen
`,
      'rules.yaml',
    );
    expect(parsed.problems).toEqual([]);
    expect(parsed.rules[0]?.then).toEqual([
      { action: 'add', provider: 'mantago', kind: 'personal', tagId: 'tag-trial', lifetime: { ms: 7 * 86_400_000, text: '7d', rule: 'trial' } },
      { action: 'add', provider: 'mantago', kind: 'personal', tagId: 'tag-seen' },
    ]);
  });

  it('keeps the first rule evaluated for a tag, lifetime and all', () => {
    const parsed = parseRuleFile(
      `defaults: { provider: mantago }
rules:
  - id: short
    priority: 1
    when: { text: { contains: short } }
    then: { add_tag: t, for: 1h }
  - id: long
    when: { text: { contains: long } }
    then: { add_tag: t, for: 30d }
  - id: forever
    when: { text: { contains: forever } }
    then: { add_tag: t }
`,
      'rules.yaml',
    );
    expect(parsed.problems).toEqual([]);
    const set = new RuleSet(parsed.rules);
    const lifetimeOf = (text: string) => evaluate(set, { platform: 'line', kind: 'message', text, timestamp: 0 }).actions.map((a) => a.lifetime?.rule ?? 'none');
    expect(lifetimeOf('short long forever')).toEqual(['short']);
    expect(lifetimeOf('long forever')).toEqual(['long']);
    expect(lifetimeOf('forever long')).toEqual(['long']);
    expect(lifetimeOf('forever')).toEqual(['none']);
  });
});
