import { RE2JS, RE2JSException } from 're2js';
import { quotedRegex, translateToRe2 } from './regex-to-re2';

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

/**
 * The longest text a regex is matched against, for the cost bound below: LINE's longest
 * message (WhatsApp's is 4,096 characters, Messenger's 2,000; postback data is shorter).
 */
export const MAX_TEXT_LENGTH = 5000;

/**
 * Linear time can still be long: matching costs up to (program size × text length) steps
 * when RE2's cached automaton gives way to its step-by-step simulation (many states, large
 * classes such as `\p{L}` under `i`). `\p{L}{1000}!` (1,003 instructions) took 0.3–0.6 s on
 * a 5,000-character text. So a pattern whose size × MAX_TEXT_LENGTH is over this budget (1,000
 * instructions) is refused (README, "Regular expressions"). The budget admits what rules
 * commonly hold — a URL pattern (542 instructions, 8 ms at worst), a 100-word alternation
 * (756, 42 ms), `[^\n]{10,200}` (392, 0.3 ms) — which a 300-instruction limit refused.
 */
export const MATCH_STEP_BUDGET = 5_000_000;
export const MAX_PROGRAM_SIZE = Math.floor(MATCH_STEP_BUDGET / MAX_TEXT_LENGTH);

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
  const ignoreCase = flags === 'iu';
  try {
    // JavaScript's own parser first: its messages for a plain syntax error are the ones people know.
    new RegExp(source, flags);
  } catch (e) {
    // Newer syntax than this Node reads (inline flags `(?i:…)` on Node 20) that the rules refuse
    // anyway: the refusal by name, the same on every Node, not this Node's "Invalid group".
    const newer = translateToRe2(source, ignoreCase);
    if (!newer.ok && newer.why === 'unsupported') return { ok: false, problem: newer.problem };
    const message = e instanceof Error ? e.message : String(e);
    // JavaScript's message repeats the pattern (`/…/u: Unterminated group`): once is enough.
    return { ok: false, problem: `bad regex ${quotedRegex(source)}: ${source.length <= 120 ? message : message.split(`/${source}/`).join('/…/')}` };
  }
  const translated = translateToRe2(source, ignoreCase);
  if (!translated.ok) return { ok: false, problem: translated.problem };
  try {
    const re2Flags = (ignoreCase ? RE2JS.CASE_INSENSITIVE : 0) | (translated.lookbehind ? RE2JS.LOOKBEHINDS : 0);
    const regex = RE2JS.compile(translated.re2, re2Flags);
    const size = regex.programSize();
    if (size > MAX_PROGRAM_SIZE) {
      return {
        ok: false,
        problem:
          `regex ${quotedRegex(source)} is too costly: it compiles to ${size} instructions, and matching that against a ` +
          `${MAX_TEXT_LENGTH.toLocaleString('en')}-character message may take ${(size * MAX_TEXT_LENGTH).toLocaleString('en')} steps, ` +
          `over the limit of ${MATCH_STEP_BUDGET.toLocaleString('en')} (${MAX_PROGRAM_SIZE} instructions) that keeps a message from stalling the service; ` +
          'use smaller repetition counts or fewer alternatives (a list of words is cheaper as contains:); see "Regular expressions" in README.md',
      };
    }
    return { ok: true, regex };
  } catch (e) {
    if (!(e instanceof RE2JSException)) throw e;
    // Left for RE2 to find: nested counts whose product is over its limit, or a program too large.
    return {
      ok: false,
      problem: `regex ${quotedRegex(source)} is too large for the linear-time engine (${e.message}); use smaller repetition counts`,
    };
  }
}
