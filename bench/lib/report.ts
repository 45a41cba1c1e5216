/**
 * How every benchmark reports: a readable block for people, then — always as the
 * LAST line of stdout — one JSON object `{"bench": NAME, ...figures}` that
 * `run-all` (or CI) reads back. Ratios are the figures that count: the machine is
 * shared and noisy, so a baseline is always measured in the same run.
 */

export type Figure = number | string | boolean | null;

/** Prints `title` and aligned `label: value` lines. */
export function printSection(title: string, rows: [label: string, value: string][]): void {
  const width = Math.max(0, ...rows.map(([l]) => l.length));
  console.log(`\n${title}`);
  for (const [label, value] of rows) console.log(`  ${label.padEnd(width)}  ${value}`);
}

/** Prints the conditions a run was measured under (machine, load, settings). */
export function printConditions(lines: string[]): void {
  console.log('\nConditions');
  for (const l of lines) console.log(`  - ${l}`);
}

/** `target` met? Printed as `ok` / `MISSED`, so a reader sees it without comparing numbers. */
export function verdict(met: boolean): string {
  return met ? 'ok' : 'MISSED';
}

/** The machine-readable last line. */
export function emitResult(bench: string, figures: Record<string, Figure>): void {
  console.log(JSON.stringify({ bench, ...figures }));
}

export function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function fmt(n: number, unit = '', digits = 1): string {
  return `${round(n, digits).toLocaleString('en-US')}${unit ? ` ${unit}` : ''}`;
}
