import fc from 'fast-check';
import { AhoCorasick } from '../../../src/rules/aho-corasick';

const found = (patterns: string[], text: string) => {
  const ids = new Set<number>();
  new AhoCorasick(patterns).forEachMatch(text, (id) => ids.add(id));
  return [...ids].sort((a, b) => a - b);
};

describe('AhoCorasick', () => {
  it('finds overlapping, nested and repeated patterns', () => {
    expect(found(['he', 'she', 'his', 'hers'], 'ushers')).toEqual([0, 1, 3]);
    expect(found(['優惠', '優惠券', '券'], '我要優惠券！')).toEqual([0, 1, 2]);
    expect(found(['aa', 'a'], 'aaa')).toEqual([0, 1]);
    expect(found(['abc'], 'ab')).toEqual([]);
  });

  it('reports each occurrence, in order of where it ends', () => {
    const seen: number[] = [];
    new AhoCorasick(['a', 'ab', 'b']).forEachMatch('abab', (id) => seen.push(id));
    expect(seen).toEqual([0, 1, 2, 0, 1, 2]);
  });

  it('works on code units beyond the basic plane and with no patterns', () => {
    expect(found(['😀'], 'hi 😀!')).toEqual([0]);
    expect(found([], 'anything')).toEqual([]);
  });

  it('refuses an empty pattern', () => {
    expect(() => new AhoCorasick(['a', ''])).toThrow(/cannot be empty/);
  });

  it('agrees with String.includes on random patterns and texts', () => {
    const alphabet = fc.constantFrom('a', 'b', 'c', '優', '惠', '\u{1F600}');
    const word = fc.array(alphabet, { minLength: 1, maxLength: 5 }).map((a) => a.join(''));
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 40 }), fc.array(alphabet, { maxLength: 60 }), (patterns, chars) => {
        const text = chars.join('');
        const expected = patterns.flatMap((p, i) => (text.includes(p) && patterns.indexOf(p) === i ? [i] : []));
        expect(found(patterns, text)).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });
});

describe('AhoCorasick with wide states (many edges out of one state)', () => {
  it('agrees with String.includes when states have tens of children', () => {
    // 60 distinct code units after a shared prefix: the prefix state gets its own hash table.
    const alphabet = [...'abcdefghijklmnopqrstuvwxyz優惠券折扣會員價格免費送貨退款訂單活動限時搶購新品上市我你他要的是了不在有這個們來到時大地為子中'];
    const head = fc.constantFrom('a', '優');
    const word = fc
      .tuple(head, fc.array(fc.constantFrom(...alphabet), { minLength: 0, maxLength: 2 }))
      .map(([h, rest]) => h + rest.join(''));
    const textChar = fc.oneof(head, fc.constantFrom(...alphabet));
    fc.assert(
      fc.property(fc.array(word, { minLength: 50, maxLength: 300 }), fc.array(textChar, { maxLength: 80 }), (patterns, chars) => {
        const text = chars.join('');
        const expected = patterns.flatMap((p, i) => (text.includes(p) && patterns.indexOf(p) === i ? [i] : []));
        expect(found(patterns, text)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});
