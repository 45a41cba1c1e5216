/**
 * The sets of code points that JavaScript's class escapes (`\d`, `\s`, `\w`,
 * `.`, `\p{…}` and their negations) stand for under the `u` flag, as inclusive
 * ranges, so the linear-time engine can be given them spelled out instead of
 * its own versions (RE2's `\s` and `.` are not JavaScript's).
 *
 * Every set handed out is closed under case folding when `ignoreCase` is set
 * (it holds a character exactly when it holds every character that folds
 * alike): JavaScript matches `/x/iu` by comparing simple case folds, RE2 under
 * `(?i)` by adding the fold orbit of each member, and on a closed set the two
 * agree, inside a negated class too.
 */

/** Inclusive code point ranges, sorted and not touching. */
export type CodePointRanges = readonly (readonly [number, number])[];

export const MAX_CODE_POINT = 0x10ffff;

export function complement(ranges: CodePointRanges): CodePointRanges {
  const out: [number, number][] = [];
  let next = 0;
  for (const [from, to] of ranges) {
    if (from > next) out.push([next, from - 1]);
    next = to + 1;
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
}

// ECMA-262 §22.2.2.9: \d is 0-9; \s is WhiteSpace and LineTerminator (TAB, VT, FF, SP, NBSP,
// ZWNBSP, every Zs, LF, CR, LS, PS); \w is [0-9A-Za-z_], plus under /iu the two characters
// whose simple case fold is in it (U+017F ſ folds to s, U+212A KELVIN SIGN to k).
const DIGIT: CodePointRanges = [[0x30, 0x39]];
const SPACE: CodePointRanges = [
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
];
const WORD: CodePointRanges = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
];
const WORD_FOLDED: CodePointRanges = [...WORD, [0x17f, 0x17f], [0x212a, 0x212a]];

/** `.` without the `s` flag: anything but a line terminator (LF, CR, LS, PS). */
export const ANY_BUT_LINE_TERMINATOR: CodePointRanges = complement([
  [0x0a, 0x0a],
  [0x0d, 0x0d],
  [0x2028, 0x2029],
]);

export function escapeSet(kind: 'digit' | 'space' | 'word', negate: boolean, ignoreCase: boolean): CodePointRanges {
  const set = kind === 'digit' ? DIGIT : kind === 'space' ? SPACE : ignoreCase ? WORD_FOLDED : WORD;
  return negate ? complement(set) : set;
}

const propertyCache = new Map<string, CodePointRanges>();

/**
 * The code points a property escape such as `\p{Script=Han}` or `\P{Lu}` matches,
 * asked of the JavaScript engine itself, so that Unicode versions and the
 * property names it accepts are exactly those of `new RegExp`. It takes a scan
 * of every code point (about 0.1 s), hence the cache; rules rarely use many.
 */
export function propertySet(raw: string, ignoreCase: boolean): CodePointRanges {
  const key = `${ignoreCase ? 'i' : ''}${raw}`;
  let set = propertyCache.get(key);
  if (!set) {
    set = matchingCodePoints(raw, ignoreCase ? 'iu' : 'u');
    propertyCache.set(key, set);
  }
  return set;
}

/** Every code point that `new RegExp(atom, flags)` matches on its own, for an atom that matches one code point. */
export function matchingCodePoints(atom: string, flags: string): CodePointRanges {
  const out: [number, number][] = [];
  const add = (from: number, to: number) => {
    const last = out[out.length - 1];
    if (last && last[1] + 1 >= from) last[1] = Math.max(last[1], to);
    else out.push([from, to]);
  };
  const all = everyScalarValue();
  // Runs of matching characters, found by the engine's own scan: far fewer calls than one test per code point.
  for (const m of all.matchAll(new RegExp(`(?:${atom})+`, `${flags}g`))) {
    const start = all.codePointAt(m.index)!;
    const lastUnit = m.index + m[0].length - 1;
    const endsInPair = lastUnit > m.index && isLowSurrogate(all.charCodeAt(lastUnit));
    const end = all.codePointAt(endsInPair ? lastUnit - 1 : lastUnit)!;
    // The string skips the surrogates, so a run may step over them.
    if (start < 0xd800 && end > 0xdfff) {
      add(start, 0xd7ff);
      add(0xe000, end);
    } else add(start, end);
  }
  // Lone surrogates are code points to a /u regex too; tested one by one (next to each other they would pair up).
  const single = new RegExp(`^(?:${atom})$`, flags);
  const surrogates: [number, number][] = [];
  for (let c = 0xd800; c <= 0xdfff; c++) {
    if (!single.test(String.fromCharCode(c))) continue;
    const last = surrogates[surrogates.length - 1];
    if (last && last[1] + 1 === c) last[1] = c;
    else surrogates.push([c, c]);
  }
  return merge([...out, ...surrogates]);
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

/** Every code point but the surrogates, in order, as one string (about 4 MB, built when needed and then dropped). */
function everyScalarValue(): string {
  const units = new Uint16Array((MAX_CODE_POINT + 1) * 2);
  let n = 0;
  for (let c = 0; c <= MAX_CODE_POINT; c++) {
    if (c >= 0xd800 && c <= 0xdfff) continue;
    if (c < 0x10000) units[n++] = c;
    else {
      const d = c - 0x10000;
      units[n++] = 0xd800 + (d >> 10);
      units[n++] = 0xdc00 + (d & 0x3ff);
    }
  }
  return Buffer.from(units.buffer, 0, n * 2).toString('utf16le');
}

/** Sorts and joins ranges that overlap or touch. */
export function merge(ranges: readonly (readonly [number, number])[]): CodePointRanges {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [from, to] of sorted) {
    const last = out[out.length - 1];
    if (last && last[1] + 1 >= from) last[1] = Math.max(last[1], to);
    else out.push([from, to]);
  }
  return out;
}
