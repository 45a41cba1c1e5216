/**
 * `for:` on an `add_tag` action: how long the tag stays before it is removed again
 * (CONTRACT.md, "Lifetimes"). A whole number and a unit, from 1 s to 365 d.
 */

const FORM = /^[1-9][0-9]*[smhd]$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const MAX_DAYS = 365;
export const MAX_LIFETIME_MS = MAX_DAYS * UNIT_MS.d;

/** Milliseconds, or a sentence saying what is wrong with `text`. */
export function parseLifetime(text: string): { ms: number } | { problem: string } {
  if (/^0+[smhd]$/.test(text)) return { problem: `for: ${text} is no lifetime: the shortest is 1s (leave for: out to keep the tag for good)` };
  if (!FORM.test(text)) {
    return { problem: `badly formed for: ${JSON.stringify(text)}: write a whole number and a unit s, m, h or d (e.g. 7d, 12h, 30m)` };
  }
  const ms = Number(text.slice(0, -1)) * UNIT_MS[text.slice(-1) as keyof typeof UNIT_MS];
  if (!(ms <= MAX_LIFETIME_MS)) return { problem: `for: ${text} is longer than ${MAX_DAYS} days` };
  return { ms };
}
