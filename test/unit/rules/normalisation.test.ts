import { evaluate, type RuleSet } from '../../../src/rules';
import { normalizeText } from '../../../src/rules/normalize-text';
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
});
