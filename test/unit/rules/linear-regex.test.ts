import fc from 'fast-check';
import { compileRegex } from '../../../src/rules/linear-regex';
import { ANY_BUT_LINE_TERMINATOR, escapeSet, matchingCodePoints } from '../../../src/rules/regex-char-sets';
import { translateToRe2 } from '../../../src/rules/regex-to-re2';

/**
 * The linear-time engine must mean what `new RegExp(source, 'u' / 'iu')` means
 * for every pattern it accepts: random patterns over the constructs it
 * translates are run by both on random texts, and must agree.
 */

// Characters where case folding, normalisation or line handling differ between engines.
const CHARS = ['a', 'b', 'k', 'K', '\u212a', 's', 'S', '\u017f', 'ß', '\u1e9e', 'İ', 'i', 'ı', 'Σ', 'σ', 'ς', '優', '惠', '1', '٣', '_', ' ', '\u3000', '\u00a0', '\n', '\r', '\u2028', '-', '!', '😀', 'é'];
const LITERALS = ['a', 'b', 'k', 'K', 's', 'ß', 'İ', 'i', 'σ', '優', '1', ' ', '-', 'é', '\\u212a', '\\u{1F600}', '\\n', '\\.', '\\x41', '\\u00DF'];
const SETS = ['.', '\\d', '\\D', '\\w', '\\W', '\\s', '\\S', '\\p{Lu}', '\\P{Ll}', '\\p{Script=Han}', '\\p{L}'];
const CLASS_ITEMS = ['a-z', 'A-Z', 'k', 'ß', '0-9', '\\d', '\\w', '\\W', '\\s', '\\S', '\\p{Lu}', '\\P{Ll}', 'σ', '\\-', 'İ', '優-惠'];

const atom: fc.Memo<string> = fc.memo((depth) => {
  const leaves = [
    fc.constantFrom(...LITERALS),
    fc.constantFrom(...SETS),
    fc
      .tuple(fc.boolean(), fc.array(fc.constantFrom(...CLASS_ITEMS), { minLength: 0, maxLength: 3 }))
      .map(([negate, items]) => `[${negate ? '^' : ''}${items.join('')}]`),
    fc.constantFrom('^', '$', '\\b', '\\B'),
  ];
  if (depth <= 1) return fc.oneof(...leaves);
  const sub = pattern(depth - 1);
  return fc.oneof(
    ...leaves,
    sub.map((p) => `(${p})`),
    sub.map((p) => `(?:${p})`),
    fc.tuple(sub, fc.constantFrom('(?<=', '(?<!')).map(([p, open]) => `${open}${p})`),
    fc.tuple(fc.constantFrom(...LITERALS, ...SETS), fc.constantFrom('*', '+', '?', '{2}', '{1,3}', '{0,}', '*?', '+?')).map(([a, q]) => `${a}${q}`),
    fc.tuple(sub, fc.constantFrom('*', '+', '?', '{1,2}')).map(([p, q]) => `(?:${p})${q}`),
  );
});
const pattern = (depth: number): fc.Arbitrary<string> =>
  fc
    .array(fc.array(atom(depth), { minLength: 1, maxLength: 3 }).map((a) => a.join('')), { minLength: 1, maxLength: 2 })
    .map((alts) => alts.join('|'));
const text = fc.array(fc.constantFrom(...CHARS), { minLength: 0, maxLength: 8 }).map((a) => a.join(''));

describe('the linear-time regex engine agrees with JavaScript', () => {
  it('on random patterns and texts, case-sensitive and not', () => {
    fc.assert(
      fc.property(pattern(3), fc.array(text, { minLength: 1, maxLength: 6 }), fc.constantFrom('u' as const, 'iu' as const), (source, texts, flags) => {
        const compiled = compileRegex(source, flags);
        if (!compiled.ok) throw new Error(`refused ${source}: ${compiled.problem}`);
        const native = new RegExp(source, flags);
        // Case-insensitive regexes only ever see NFKC-normalised text (rule text); there JavaScript's `\b`
        // counts ſ and the Kelvin sign as word characters, and RE2's does not, but NFKC has turned them into s and K.
        for (const t of texts.map((x) => (flags === 'iu' ? x.normalize('NFKC') : x))) {
          // V8 tries a zero-width \B or (?<!…) between the two halves of a surrogate pair, where the
          // language says a /u search never starts (and RE2 does not); see the case below.
          if (/\\B|\(\?<!/.test(source) && /[\u{10000}-\u{10FFFF}]/u.test(t)) continue;
          if (compiled.regex.test(t) !== native.test(t)) {
            throw new Error(`/${source}/${flags} on ${JSON.stringify(t)}: linear ${compiled.regex.test(t)}, JavaScript ${native.test(t)}`);
          }
        }
      }),
      // REGEX_FUZZ_RUNS=50000 for a longer search after changing the translation.
      { numRuns: Number(process.env.REGEX_FUZZ_RUNS ?? 1500) },
    );
  });

  it.each([
    ['k', 'iu', '\u212a', true],
    ['\\w', 'iu', '\u017f', true],
    ['\\W', 'iu', 'S', false],
    ['[^\\W]', 'iu', '\u212a', true],
    ['\\P{Lu}', 'iu', 'A', true],
    ['[^\\P{Lu}]', 'iu', 'a', false],
    ['ß', 'iu', '\u1e9e', true],
    ['^.$', 'u', '\u2028', false],
    ['^.$', 'u', '😀', true],
    ['^\\s$', 'u', '\u3000', true],
    ['^\\s$', 'u', '\ufeff', true],
    ['a$', 'u', 'a\n', false],
    ['[]', 'u', 'a', false],
    ['^[^]$', 'u', '\n', true],
    ['(?<!不)要', 'u', '不要', false],
    ['(?<!不)要', 'u', '我要', true],
  ] as const)('/%s/%s on %j is %s, as in JavaScript', (source, flags, input, expected) => {
    expect(new RegExp(source, flags).test(input)).toBe(expected);
    const compiled = compileRegex(source, flags);
    expect(compiled.ok && compiled.regex.test(input)).toBe(expected);
  });

  it('never looks between the halves of a surrogate pair, as the language says (V8 itself does)', () => {
    const notBoundary = compileRegex('\\B', 'u');
    expect(notBoundary.ok && [notBoundary.regex.test('a😀a'), notBoundary.regex.test('😀😀')]).toEqual([false, true]);
    const notAfter = compileRegex('(?<![\\P{Ll}]|^)', 'u');
    expect(notAfter.ok && [notAfter.regex.test('😀'), notAfter.regex.test('😀a')]).toEqual([false, true]);
  });

  it('spells out \\d, \\s, \\w and . exactly as the JavaScript engine matches them', () => {
    for (const flags of ['u', 'iu'] as const) {
      for (const kind of ['digit', 'space', 'word'] as const) {
        const letter = { digit: 'd', space: 's', word: 'w' }[kind];
        expect(escapeSet(kind, false, flags === 'iu')).toEqual(matchingCodePoints(`\\${letter}`, flags));
        expect(escapeSet(kind, true, flags === 'iu')).toEqual(matchingCodePoints(`\\${letter.toUpperCase()}`, flags));
      }
      expect(ANY_BUT_LINE_TERMINATOR).toEqual(matchingCodePoints('.', flags));
    }
  });
});

describe('what the linear-time engine refuses, and why', () => {
  it.each([
    ['(a)\\1', /^unsupported regex "\(a\)\\\\1": a backreference at character 4; .*linear-time engine.*no backreferences/],
    ['(?<w>a)\\k<w>', /a backreference at character 8;/],
    ['coupon(?=!)', /the lookahead \(\?=…\) at character 7; .*no lookahead/],
    ['^(?!spam)', /the lookahead \(\?!…\) at character 2;/],
    ['a{1001}', /the repetition count \{1001\} at character 1; .*counts up to 1000/],
    ['a{2,5000}', /the repetition count \{2,5000\}/],
    ['((a{100}){100}){100}', /^regex "\(\(a\{100\}\)\{100\}\)\{100\}" is too large for the linear-time engine/],
    // Linear, but 0.3 s and more on a 5,000-character text: over the cost budget.
    ['\\p{L}{1000}!', /^regex "\\\\p\{L\}\{1000\}!" is too costly: it compiles to 1003 instructions, and matching that against a 5,000-character message may take 5,015,000 steps, over the limit of 5,000,000 \(1000 instructions\)/],
    ['(coupon|voucher){80}', /^regex "\(coupon\|voucher\)\{80\}" is too costly: it compiles to \d+ instructions/],
    ['(優惠', /^bad regex "\(優惠": Invalid regular expression/],
    // Inline flags are ES2025 (Node 20's RegExp cannot read them): refused by name on every Node.
    ['a(?i:b)c', /^unsupported regex "a\(\?i:b\)c": the inline flags \(\?i:…\) at character 2; rule regexes take their flags from case_sensitive/],
    ['(?-i:coupon)', /^unsupported regex "\(\?-i:coupon\)": the inline flags \(\?-i:…\) at character 1;/],
    ['', /^an empty regex would match every text$/],
  ])('%s', (source, message) => {
    for (const flags of ['u', 'iu'] as const) {
      const compiled = compileRegex(source, flags);
      expect(compiled.ok).toBe(false);
      if (!compiled.ok) expect(compiled.problem).toMatch(message);
    }
  });

  it.each([
    ['a URL pattern', 'https?:\\/\\/(www\\.)?[-a-zA-Z0-9@:%._\\+~#=]{1,256}\\.[a-zA-Z0-9()]{1,6}\\b([-a-zA-Z0-9()@:%_\\+.~#?&//=]*)'],
    ['a 100-word alternation', `(${Array.from({ length: 100 }, (_, i) => `${['優惠券', '折價券', 'coupon', 'voucher'][i % 4]}${i}`).join('|')})`],
    ['a bounded line', '[^\\n]{10,200}'],
    ['a pattern just inside the budget', '\\p{L}{990}!'],
  ])('takes %s, as rules commonly hold them (within the cost budget)', (_what, source) => {
    for (const flags of ['u', 'iu'] as const) expect(compileRegex(source, flags)).toMatchObject({ ok: true });
  });

  it('points README readers at the section that lists the syntax', () => {
    const t = translateToRe2('(a)\\1', false);
    expect(t.ok === false && t.problem).toMatch(/see "Regular expressions" in README\.md$/);
  });

  it('takes the patterns that stall a backtracking engine, and matches them in linear time', () => {
    for (const source of ['^(a+)+$', '(x+x+)+y', '(\\w+\\s?)+$', '(a|a)*b', '.*.*.*x']) {
      const compiled = compileRegex(source, 'iu');
      expect(compiled.ok).toBe(true);
    }
    const nested = compileRegex('^(a+)+$', 'iu');
    expect(nested.ok && [nested.regex.test('aaaa'), nested.regex.test(`${'a'.repeat(5000)}!`)]).toEqual([true, false]);
  });
});
