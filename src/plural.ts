/** "1 rule", "2 rules": a count and its noun, the noun with an s unless the count is 1. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
