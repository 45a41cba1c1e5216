import { evaluate, formatProblem, RuleSet } from '../../../src/rules';
import { normalizeText } from '../../../src/rules/normalize-text';
import { parseRuleFile } from '../../../src/rules/parse-rule-file';
import { loadValid } from './load-fixture';

let rules: RuleSet;
beforeAll(async () => {
  rules = await loadValid('conditions');
});

const matched = (text: string) => evaluate(rules, { platform: 'line', kind: 'message', text, timestamp: 0 }).matched;

describe('text normalisation (NFKC, trim, lower-case)', () => {
  it('full-width ＣＯＵＰＯＮ matches coupon', () => {
    expect(matched('ＣＯＵＰＯＮ')).toContain('text-contains');
  });

  it('優惠券 is found in 我要優惠券！', () => {
    expect(matched('我要優惠券！')).toContain('text-contains');
  });

  it('full-width １２ equals 12', () => {
    expect(matched('１２')).toContain('text-equals');
    expect(matched('１２３')).not.toContain('text-equals');
  });

  it('trims white space, including the ideographic space NFKC turns into a plain one', () => {
    expect(normalizeText('\u3000 Coupon\t', false)).toBe('coupon');
    expect(matched('\u3000１２\u3000')).toContain('text-equals');
  });

  it('keeps case when asked to', () => {
    expect(normalizeText('ＡｂＣ', true)).toBe('AbC');
    expect(normalizeText('ＡｂＣ', false)).toBe('abc');
  });

  it('normalises patterns too: a full-width pattern matches half-width text', async () => {
    const set = await loadValid('normalised-patterns');
    const m = (text: string) => evaluate(set, { platform: 'line', kind: 'message', text, timestamp: 0 }).matched;
    expect(m('get coupon now')).toEqual(['full-width-pattern']);
    expect(m('雙12快樂')).toEqual(['full-width-digits']);
  });

  describe('Greek sigma: lower-casing writes Σ at the end of a word as ς, elsewhere as σ', () => {
    const set = (when: string) => {
      const parsed = parseRuleFile(`defaults: { provider: mantago }\nrules:\n  - { id: r, when: ${when}, then: { add_tag: t } }\n`, 'rules.yaml');
      if (parsed.problems.length) throw new Error(parsed.problems.map(formatProblem).join('\n'));
      return new RuleSet(parsed.rules);
    };
    const holds = (rules: RuleSet, text: string) => evaluate(rules, { platform: 'line', kind: 'message', text, timestamp: 0 }).matched.length === 1;

    it('a text holding a pattern as written matches it whatever the letter case', () => {
      // "ΑΣ" lower-cased alone ends in ς; inside "ΑΣΑ" the Σ lower-cases to σ.
      for (const form of ['contains', 'contains_all', 'starts_with']) {
        const rules = set(`{ text: { ${form}: "ΑΣ" } }`);
        expect([form, holds(rules, 'ΑΣΑ'), holds(rules, 'ασα'), holds(rules, 'ΑΣ')]).toEqual([form, true, true, true]);
      }
    });

    it('σ, ς and Σ are one letter apart from case, as in a case-insensitive regex', () => {
      const literal = set('{ text: { equals: "ΟΔΟΣ" } }');
      const regex = set('{ text: { regex: "^ΟΔΟΣ$" } }');
      for (const text of ['ΟΔΟΣ', 'οδος', 'οδοσ', 'ΟΔΟσ']) expect([text, holds(literal, text)]).toEqual([text, holds(regex, text)]);
      expect(holds(literal, 'οδοσ')).toBe(true);
    });

    it('case_sensitive: true still tells σ from ς', () => {
      const rules = set('{ text: { equals: "οδος", case_sensitive: true } }');
      expect([holds(rules, 'οδος'), holds(rules, 'οδοσ')]).toEqual([true, false]);
    });
  });
});
