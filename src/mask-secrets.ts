/**
 * Secret values masked in text that may reach a log line, an error or a dead letter.
 *
 * A secret of at least WHOLE_ONLY_BELOW characters is masked wherever it appears: a
 * random token that long is never part of an ordinary word, and masking it even inside
 * a longer string is the safe side. A shorter one (a verify token someone typed, a
 * `METRICS_TOKEN=short`) is masked only where it stands as a whole value — not glued to
 * a letter, digit or underscore on either side — so that `short` masks the token in
 * `?token=short`, `Bearer short` or `"secret":"short"` but leaves `shortly` and
 * `shortcut` in every other log line alone.
 *
 * What ends an escape is no glue: `%3D` in a URL nested in a query string (`%3Dshort`), or `\n`
 * and `\u003d` in JSON text quoted as it came (`"bad token\nshort"`) stand for a character of
 * their own, not for part of a word. Nor are the scripts written without spaces between words
 * (Chinese, Japanese): `密碼short` holds the secret as a value of its own.
 */
export const WHOLE_ONLY_BELOW = 16;

const MASK = '[redacted]';
/** What a word is made of: a secret glued to one of these on a side is part of a longer word. */
const WORD_CHAR = /^[\p{L}\p{M}\p{N}_]$/u;
/** Letters of scripts written without spaces between words: a neighbour of these is no longer word. */
const SPACELESS = /^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]$/u;
/** An escape that ends where the secret begins: a percent-encoded byte, a JSON (or JavaScript) backslash escape. */
const ESCAPE_BEFORE = /(?:%[0-9A-Fa-f]{2}|\\[bfnrt]|\\u[0-9A-Fa-f]{4})$/;

/** A function that masks these secrets in a text; built once per set of secrets. */
export function secretMasker(secrets: readonly string[]): (text: string) => string {
  // Longest first, so a secret that holds another is masked whole, not around the shorter one.
  const sorted = [...new Set(secrets)].filter((s) => s !== '').sort((a, b) => b.length - a.length);
  if (sorted.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const s of sorted) {
      if (!out.includes(s)) continue;
      out = [...s].length >= WHOLE_ONLY_BELOW ? out.split(s).join(MASK) : maskWhole(out, s);
    }
    return out;
  };
}

/** Masks `secret` where neither neighbour continues a word the secret begins or ends. */
function maskWhole(text: string, secret: string): string {
  const first = secret.codePointAt(0)!;
  const last = codePointBefore(secret, secret.length)!;
  const opensWord = isWordChar(first);
  const closesWord = isWordChar(last);
  let out = '';
  let copied = 0;
  for (let at = text.indexOf(secret); at !== -1; at = text.indexOf(secret, at + 1)) {
    if (at < copied) continue;
    const end = at + secret.length;
    const before = codePointBefore(text, at);
    const after = text.codePointAt(end);
    const gluedBefore = opensWord && before !== undefined && gluesTo(before) && !ESCAPE_BEFORE.test(text.slice(Math.max(0, at - 6), at));
    const gluedAfter = closesWord && after !== undefined && gluesTo(after);
    if (gluedBefore || gluedAfter) continue;
    out += text.slice(copied, at) + MASK;
    copied = end;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

function isWordChar(codePoint: number): boolean {
  return WORD_CHAR.test(String.fromCodePoint(codePoint));
}

/** A neighbour that continues the word the secret begins or ends (not one of a script written without spaces). */
function gluesTo(codePoint: number): boolean {
  return isWordChar(codePoint) && !SPACELESS.test(String.fromCodePoint(codePoint));
}

/** The code point that ends just before `index` (a surrogate pair read whole). */
function codePointBefore(text: string, index: number): number | undefined {
  if (index <= 0) return undefined;
  const low = text.charCodeAt(index - 1);
  if (low >= 0xdc00 && low <= 0xdfff && index >= 2) {
    const high = text.charCodeAt(index - 2);
    if (high >= 0xd800 && high <= 0xdbff) return text.codePointAt(index - 2);
  }
  return low;
}
