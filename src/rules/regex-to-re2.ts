import { RegExpParser, type AST } from '@eslint-community/regexpp';
import { ANY_BUT_LINE_TERMINATOR, escapeSet, merge, propertySet, type CodePointRanges } from './regex-char-sets';

/**
 * Rewrites a rule's regex, written in JavaScript syntax for the `u` flag, into
 * RE2 syntax with the same meaning, or says which part RE2 cannot do.
 *
 * Rules are written in JavaScript syntax (the contract says so) and mean what
 * `new RegExp(source, 'u' or 'iu')` means; RE2 differs in places (`\s`, `.`,
 * escapes, property names), so nothing is passed through as written: the
 * pattern is parsed and every piece spelled out in the few RE2 forms whose
 * meaning is plain — literal code points, explicit classes, groups, counted
 * repetition, `^ $ \b \B` and lookbehind. The result is only ever tested for a
 * match, so captures and greediness do not matter.
 *
 * `\b` is RE2's ASCII word boundary. JavaScript's differs under `i` only in also
 * counting U+017F and U+212A as word characters, and rule text is NFKC-normalised
 * first, which turns those two into `s` and `K`.
 */

/** A failure is `unreadable` (not regex syntax, even the newest) or `unsupported` (read, but RE2 cannot do a part of it). */
export type Translation = { ok: true; re2: string; lookbehind: boolean } | { ok: false; why: 'unreadable' | 'unsupported'; problem: string };

/** RE2's limit on one repetition count. */
export const MAX_REPEAT = 1000;

const README = 'see "Regular expressions" in README.md';
const ENGINE = 'rule regexes run on a linear-time engine, so that no message can stall the service, and';

class Refusal {
  constructor(readonly problem: string) {}
}

/** `source` must already compile as `new RegExp(source, ignoreCase ? 'iu' : 'u')`. */
export function translateToRe2(source: string, ignoreCase: boolean): Translation {
  let pattern: AST.Pattern;
  try {
    // The newest syntax regexpp knows, so a pattern a newer Node accepts is read, and refused by name if need be.
    pattern = new RegExpParser({ ecmaVersion: 2025 }).parsePattern(source, 0, source.length, { unicode: true, unicodeSets: false });
  } catch (e) {
    return { ok: false, why: 'unreadable', problem: `cannot read regex ${JSON.stringify(source)}: ${e instanceof Error ? e.message : String(e)}` };
  }
  const writer = new Re2Writer(source, ignoreCase);
  try {
    return { ok: true, re2: writer.alternatives(pattern.alternatives), lookbehind: writer.lookbehind };
  } catch (e) {
    if (e instanceof Refusal) return { ok: false, why: 'unsupported', problem: e.problem };
    throw e;
  }
}

class Re2Writer {
  lookbehind = false;

  constructor(
    private readonly source: string,
    private readonly ignoreCase: boolean,
  ) {}

  alternatives(alternatives: AST.Alternative[]): string {
    return alternatives.map((a) => a.elements.map((e) => this.element(e)).join('')).join('|');
  }

  private element(e: AST.Element): string {
    switch (e.type) {
      case 'Character':
        return literal(e.value);
      case 'CharacterSet':
        return characterClass(this.setOf(e), false);
      case 'CharacterClass':
        return this.characterClass(e);
      case 'Group':
        // ES2025 modifiers `(?i:…)` (newer Node): the class escapes' sets are worked out for the whole pattern's flags.
        if (e.modifiers) {
          const flags = e.raw.slice(0, e.raw.indexOf(':') + 1);
          throw this.refuse(e, `the inline flags ${flags}…)`, 'rule regexes take their flags from case_sensitive (case-insensitive unless it is true)');
        }
        return `(?:${this.alternatives(e.alternatives)})`;
      case 'CapturingGroup':
        return `(?:${this.alternatives(e.alternatives)})`;
      case 'Quantifier':
        return this.quantifier(e);
      case 'Assertion':
        return this.assertion(e);
      case 'Backreference':
        throw this.refuse(e, 'a backreference', `${ENGINE} it has no backreferences (matching one needs backtracking)`);
      default:
        // Only the `v` flag's set expressions are left, and rule regexes are compiled with `u`.
        throw this.refuse(e, `the construct ${e.raw}`, `${ENGINE} it does not support it`);
    }
  }

  private quantifier(q: AST.Quantifier): string {
    const count = q.raw.slice(q.element.raw.length);
    if (q.min > MAX_REPEAT || (q.max !== Infinity && q.max > MAX_REPEAT)) {
      throw this.refuse(q, `the repetition count ${count}`, `${ENGINE} it allows counts up to ${MAX_REPEAT}`);
    }
    const inner = `(?:${this.element(q.element)})`;
    const bounds =
      q.max === Infinity
        ? q.min === 0
          ? '*'
          : q.min === 1
            ? '+'
            : `{${q.min},}`
        : q.min === q.max
          ? `{${q.min}}`
          : `{${q.min},${q.max}}`;
    return `${inner}${bounds}${q.greedy ? '' : '?'}`;
  }

  private assertion(a: AST.Assertion): string {
    switch (a.kind) {
      // Without the `m` flag, in JavaScript and in RE2 alike: the start and the end of the whole text.
      case 'start':
        return '^';
      case 'end':
        return '$';
      case 'word':
        return a.negate ? '\\B' : '\\b';
      case 'lookbehind':
        this.lookbehind = true;
        return `(?<${a.negate ? '!' : '='}${this.alternatives(a.alternatives)})`;
      case 'lookahead':
        throw this.refuse(
          a,
          `the lookahead ${a.negate ? '(?!…)' : '(?=…)'}`,
          `${ENGINE} it has no lookahead (a lookbehind, or a second condition under "all:" or "not:", can often say the same)`,
        );
    }
  }

  private characterClass(c: AST.CharacterClass): string {
    const ranges: (readonly [number, number])[] = [];
    for (const e of c.elements) {
      if (e.type === 'Character') ranges.push([e.value, e.value]);
      else if (e.type === 'CharacterClassRange') ranges.push([e.min.value, e.max.value]);
      else if (e.type === 'CharacterSet') ranges.push(...this.setOf(e));
      else throw this.refuse(e, `the class element ${e.raw}`, `${ENGINE} it does not support it`);
    }
    // Literal members are folded by RE2 under (?i) as JavaScript folds them under /iu; the
    // escapes' sets are closed under folding already (see regex-char-sets.ts).
    return characterClass(merge(ranges), c.negate);
  }

  private setOf(s: AST.CharacterSet): CodePointRanges {
    switch (s.kind) {
      case 'any':
        return ANY_BUT_LINE_TERMINATOR;
      case 'property':
        return propertySet(s.raw, this.ignoreCase);
      default:
        return escapeSet(s.kind, s.negate, this.ignoreCase);
    }
  }

  private refuse(node: AST.Node, what: string, why: string): Refusal {
    return new Refusal(
      `unsupported regex ${quotedRegex(this.source)}: ${what} at character ${node.start + 1}; ${why}; ${README}`,
    );
  }
}

function literal(codePoint: number): string {
  return `\\x{${codePoint.toString(16)}}`;
}

function characterClass(ranges: CodePointRanges, negate: boolean): string {
  // RE2 has no empty class: "nothing" and "anything" are written as each other's negation.
  if (ranges.length === 0) return negate ? '[\\x{0}-\\x{10ffff}]' : '[^\\x{0}-\\x{10ffff}]';
  const body = ranges.map(([from, to]) => (from === to ? literal(from) : `${literal(from)}-${literal(to)}`)).join('');
  return `[${negate ? '^' : ''}${body}]`;
}

/** A regex as a problem quotes it: whole up to 120 characters, else its start and its length (a 50,000-character pattern made a 50 KB line). */
export function quotedRegex(source: string): string {
  return source.length <= 120 ? JSON.stringify(source) : `${JSON.stringify(`${source.slice(0, 60)}…`)} (${source.length.toLocaleString('en')} characters)`;
}
