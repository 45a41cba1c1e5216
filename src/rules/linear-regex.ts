import { RE2JS, RE2JSException } from 're2js';
import { translateToRe2 } from './regex-to-re2';

/**
 * Rule regexes, matched in time linear in the text.
 *
 * The text comes from anyone who writes to the bot. JavaScript's backtracking
 * engine takes exponential time on patterns such as `^(a+)+$` (28 `a`s and a
 * `!` took 12 s), and one such message would freeze every webhook; RE2 (here
 * re2js, pure JavaScript) never backtracks. Patterns keep JavaScript's syntax
 * and meaning (see regex-to-re2.ts); the few constructs RE2 cannot do
 * (backreferences, lookahead, counts over 1000) are refused when rules load.
 */
export interface LinearRegex {
  test(text: string): boolean;
}

export type CompiledRegex = { ok: true; regex: LinearRegex } | { ok: false; problem: string };

// Each regex is compiled twice per load (once to validate it, once for the rule set);
// a small memo makes the second one free. Cleared when full, so old rules' regexes go.
const MEMO_LIMIT = 1000;
const memo = new Map<string, CompiledRegex>();

/** `flags` as a RegExp's: `u`, or `iu` for case-insensitive. */
export function compileRegex(source: string, flags: 'u' | 'iu'): CompiledRegex {
  const key = `${flags}/${source}`;
  let compiled = memo.get(key);
  if (!compiled) {
    compiled = compileUncached(source, flags);
    if (memo.size >= MEMO_LIMIT) memo.clear();
    memo.set(key, compiled);
  }
  return compiled;
}

function compileUncached(source: string, flags: 'u' | 'iu'): CompiledRegex {
  if (source === '') return { ok: false, problem: 'an empty regex would match every text' };
  try {
    // JavaScript's own parser first: its messages for a plain syntax error are the ones people know.
    new RegExp(source, flags);
  } catch (e) {
    return { ok: false, problem: `bad regex ${JSON.stringify(source)}: ${e instanceof Error ? e.message : String(e)}` };
  }
  const ignoreCase = flags === 'iu';
  const translated = translateToRe2(source, ignoreCase);
  if (!translated.ok) return { ok: false, problem: translated.problem };
  try {
    const re2Flags = (ignoreCase ? RE2JS.CASE_INSENSITIVE : 0) | (translated.lookbehind ? RE2JS.LOOKBEHINDS : 0);
    return { ok: true, regex: RE2JS.compile(translated.re2, re2Flags) };
  } catch (e) {
    if (!(e instanceof RE2JSException)) throw e;
    // Left for RE2 to find: nested counts whose product is over its limit, or a program too large.
    return {
      ok: false,
      problem: `regex ${JSON.stringify(source)} is too large for the linear-time engine (${e.message}); use smaller repetition counts`,
    };
  }
}
