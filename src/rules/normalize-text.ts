/**
 * Text normalisation shared by rule patterns and incoming text, so that both
 * sides are compared in the same form: Unicode NFKC (full-width letters and
 * digits become half-width), trimmed, and lower-cased unless case-sensitive.
 */

// ASCII is already NFKC; skipping `normalize` for it keeps the common English case cheap.
// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\u0000-\u007f]/;

export function nfkc(s: string): string {
  return NON_ASCII.test(s) ? s.normalize('NFKC') : s;
}

/** The form literal patterns (contains, equals, …) and text are compared in. */
export function normalizeText(s: string, caseSensitive: boolean): string {
  const t = nfkc(s).trim();
  return caseSensitive ? t : lowerCase(t);
}

/**
 * Lower-cased letter by letter. `toLowerCase` writes a capital sigma as ς at the end of a
 * word and as σ elsewhere, so "ΑΣ" alone would not be found in "ΑΣΑ", which holds it as
 * written; both are σ here, as case folding (and a regex's `i`) has them.
 */
export function lowerCase(s: string): string {
  const lower = s.toLowerCase();
  return lower.includes('ς') ? lower.replaceAll('ς', 'σ') : lower;
}

/** A regex source is NFKC-normalised only: trimming or lower-casing could change its meaning. */
export function normalizeRegexSource(source: string): string {
  return nfkc(source);
}

/** `u` always (so `.` and classes see whole characters), `i` unless case-sensitive. */
export function regexFlags(caseSensitive: boolean): 'u' | 'iu' {
  return caseSensitive ? 'u' : 'iu';
}
