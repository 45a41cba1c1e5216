/** Where a command writes; tests pass buffers. */
export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Resolves once what was written to stdout has gone out (commands that stream a long list wait between pages). */
  drained?: () => Promise<void>;
}

/**
 * Control characters but newline and tab, written visibly: what a command prints can hold text
 * from outside — a tag API's error message in a dead letter's reason, a user's message in the
 * history — and an escape sequence there would act on the operator's terminal (move the cursor,
 * rewrite earlier lines, retitle the window). C0 controls are written `\x1b`; JSON never holds
 * them raw (JSON.stringify escapes them). DEL and the C1 controls (U+007F–U+009F), which
 * JSON.stringify leaves raw, are written `\u009b`: a JSON escape, so `--json` output stays JSON
 * and parses to the same text.
 */
export function visibleControls(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x7f ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u00${code.toString(16)}`;
  });
}

export const processIo: CommandIo = {
  stdout: (t) => void process.stdout.write(visibleControls(t)),
  stderr: (t) => void process.stderr.write(visibleControls(t)),
  // A reader that went away (`| head`) closes stdout: no drain then, and nothing left to wait for.
  drained: () =>
    process.stdout.writableNeedDrain && !process.stdout.destroyed
      ? new Promise((resolve) => {
          const done = () => {
            process.stdout.off('drain', done).off('close', done);
            resolve();
          };
          process.stdout.once('drain', done).once('close', done);
        })
      : Promise.resolve(),
};

/** A `--limit` value: a whole number ≥ 1 written in digits (not 0x10, 1e1 or 2.0), else undefined. */
export function positiveCount(value: string): number | undefined {
  if (!/^\d+$/.test(value)) return undefined;
  const n = Number(value);
  return n >= 1 && Number.isSafeInteger(n) ? n : undefined;
}

/** The width of each column: its widest cell, header included. */
export function columnWidths(header: string[], rows: string[][]): number[] {
  return header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
}

/** One line of a plain-text table at these widths (a wider cell pushes the rest of its line right). */
export function tableLine(widths: number[], cells: string[]): string {
  return cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
}

/** The header line and the rule under it. */
export function tableHead(widths: number[], header: string[]): string {
  return `${tableLine(widths, header)}\n${tableLine(widths, widths.map((w) => '-'.repeat(w)))}\n`;
}

/** Renders rows as an aligned plain-text table. */
export function table(header: string[], rows: string[][]): string {
  const widths = columnWidths(header, rows);
  return tableHead(widths, header) + rows.map((r) => `${tableLine(widths, r)}\n`).join('');
}

/** What a command that goes on without a broken channels file says first (on stderr). */
export function leftOutWarning(command: string, problems: readonly string[]): string {
  return `autotag ${command}: warning: the channels file is left out (this command does not need it), but \`serve\` refuses to start on it:\n${problems.map((p) => `  ${p}\n`).join('')}`;
}
