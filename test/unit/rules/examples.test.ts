import { loadRuleSet } from '../../../src/rules';
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

  it('the shipped example rules are valid and every example holds', async () => {
    const set = await loadValid('../../../rules');
    expect(set.rules.length).toBeGreaterThanOrEqual(8);
    for (const r of set.rules) expect(r.definition.examples.length).toBeGreaterThan(0);
  });
});
