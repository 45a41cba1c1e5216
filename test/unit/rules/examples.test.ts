import { loadRuleSet, RuleSet } from '../../../src/rules';
import { checkExamples } from '../../../src/rules/examples';
import { parseRuleFile } from '../../../src/rules/parse-rule-file';
import { fixture, NOW, ROOT } from './fixtures';
import { loadValid } from './load-fixture';

describe('examples', () => {
  it('are checked against the rule\'s when alone: a disabled, low-priority rule after a stop rule still has its examples run', async () => {
    const result = await loadRuleSet(fixture('examples'), { cwd: ROOT, now: NOW });
    expect(result.problems).toEqual([]);
    expect(result.exampleFailures.map((f) => `${f.line}:${f.column}: ${f.message.replace(/, at .*/, '')}`)).toEqual([
      '17:9: example 2 of rule "disabled-after-stop" expects no_match but the rule matches: message on line, text "coupon"',
    ]);
  });

  it('use "now" when they give no `at`, and read `at` without an offset in the rule\'s timezone', async () => {
    const summer = await loadRuleSet(fixture('examples-now'), { cwd: ROOT, now: Date.parse('2026-07-01T00:00:00Z') });
    expect(summer.exampleFailures).toEqual([]);
    const winter = await loadRuleSet(fixture('examples-now'), { cwd: ROOT, now: Date.parse('2026-12-01T00:00:00Z') });
    expect(winter.exampleFailures.map((f) => f.line)).toEqual([10]);
  });

  it('carry only what a webhook of their event carries: no text but on a message, no data on a follow or unfollow', () => {
    const text = [
      'defaults: { provider: mantago }',
      'rules:',
      '  - id: text-on-postback',
      '    when: { event: [postback, follow], text: { contains: hi } }',
      '    then: { add_tag: a }',
      '    examples:',
      '      - { event: postback, text: hi, data: x, expect: match }',
      '      - { event: follow, text: hi, expect: match }',
      '      - { event: postback, text: hi, data: x, expect: no_match }',
      '  - id: data-on-follow',
      '    when: { event: follow, postback: x }',
      '    then: { add_tag: b }',
      '    examples:',
      '      - { event: follow, data: x, expect: match }',
      '  - id: quick-reply',
      '    when: { event: message, text: { contains: hi }, postback: x }',
      '    then: { add_tag: c }',
      '    examples:',
      '      - { text: hi, data: x, expect: match }',
    ].join('\n');
    const parsed = parseRuleFile(text, 'rules.yaml');
    expect(parsed.problems).toEqual([]);
    // As `serve` (and `autotag test`) would see these events, none of the first three rules' "match" holds.
    expect(checkExamples(new RuleSet(parsed.rules), NOW).map((f) => `${f.line}: ${f.message.replace(/, at [^ ]*/, '')}`)).toEqual([
      '7: example 1 of rule "text-on-postback" expects match but the rule does not match: postback on line, data "x" (the text is left out: a postback event has no text (only a message has), so no text condition matches it)',
      '8: example 2 of rule "text-on-postback" expects match but the rule does not match: follow on line (the text is left out: a follow event has no text (only a message has), so no text condition matches it)',
      '14: example 1 of rule "data-on-follow" expects match but the rule does not match: follow on line (the postback data is left out: a follow event has none (a postback or a quick-reply message has), so no postback condition matches it)',
    ]);
  });

  it('the shipped example rules are valid and every example holds', async () => {
    const set = await loadValid('../../../rules');
    expect(set.rules.length).toBeGreaterThanOrEqual(8);
    for (const r of set.rules) expect(r.definition.examples.length).toBeGreaterThan(0);
  });
});
