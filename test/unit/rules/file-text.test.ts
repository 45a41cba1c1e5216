import { decodeFileText } from '../../../src/rules/file-text';

describe('the text of a rule or channels file (UTF-8 only)', () => {
  const problem = (...parts: (string | number[])[]) => {
    const r = decodeFileText(Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p)))));
    return 'problem' in r ? r.problem : r.text;
  };

  it('reads UTF-8 as it is, a U+FFFD the file holds included, and leaves a byte order mark out (no column is counted for it)', () => {
    expect(problem('\ufeffrules: []\n# 優惠券 � 😀\n')).toBe('rules: []\n# 優惠券 � 😀\n');
    // Only at the start: elsewhere U+FEFF is a character of the file like any other.
    expect(problem('x: "\ufeff"\n')).toBe('x: "\ufeff"\n');
  });

  it('points at the first byte that is not UTF-8, counting columns as the other problems do', () => {
    // A real U+FFFD and an emoji (two UTF-16 units) before it on the line.
    expect(problem('a: 1\nb: "�😀', [0xa7, 0x41], '"\n')).toEqual({ line: 2, column: 8, message: expect.stringMatching(/^the file is not UTF-8 \(bytes A7 41 here are not\): /) });
    // A sequence cut short (EF BF then an ASCII letter) is said at its start, not at the letter.
    expect(problem('x: ', [0xef, 0xbf], 'A\n')).toEqual({ line: 1, column: 4, message: expect.stringContaining('(bytes EF BF here are not)') });
    // At the very end of the file.
    expect(problem('x: y', [0xe4])).toEqual({ line: 1, column: 5, message: expect.stringContaining('(bytes E4 here are not)') });
  });

  it('names UTF-16 by its byte order mark, either way round', () => {
    for (const bom of [[0xff, 0xfe], [0xfe, 0xff]]) expect(problem(bom, 'r\u0000')).toEqual({ line: 1, column: 1, message: 'the file is UTF-16 (it starts with a UTF-16 byte order mark): save it as UTF-8' });
  });
});
