/** One thing wrong with the rules, at the place a person has to look. */
export interface RuleProblem {
  /** Relative to the working directory, so editors and terminals can open it. */
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  message: string;
}

/** What a terminal or an editor may take for the end of a line. */
const LINE_BREAKS = /[\n\r\v\f\u0085\u2028\u2029]/g;
const ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\v': '\\v', '\f': '\\f' };

/**
 * `FILE:LINE:COLUMN: message` — the form compilers use, which editors turn into links —
 * on one line, whatever it quotes (a regex with a line break, which JavaScript's own
 * message repeats as written): a line break is written as its escape.
 */
export function formatProblem(p: RuleProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.message}`.replace(
    LINE_BREAKS,
    (c) => ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Problems in reading order: by file, then line, then column. */
export function sortProblems(problems: RuleProblem[]): RuleProblem[] {
  return problems.sort((a, b) =>
    a.file !== b.file ? (a.file < b.file ? -1 : 1) : a.line - b.line || a.column - b.column,
  );
}

/** Levenshtein distance; candidate lists are short, so the plain O(n·m) table is enough. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/**
 * `; did you mean "contains"?` when one candidate is close to what was written
 * (a third of its length, at least 1, at most 3 edits, ignoring case), else ''.
 */
export function didYouMean(written: string, candidates: readonly string[]): string {
  const w = written.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  const limit = Math.min(3, Math.max(1, Math.floor(written.length / 3)));
  return best !== undefined && bestDistance <= limit ? `; did you mean ${JSON.stringify(best)}?` : '';
}
