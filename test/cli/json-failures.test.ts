import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from './cli-run';

/**
 * README, Operations: a command given --json prints one JSON value on stdout when it succeeds;
 * when it fails stdout stays empty, the reason goes to stderr and the exit code is 1.
 */
describe('--json commands that fail leave stdout empty and exit 1', () => {
  const empty = mkdtempSync(path.join(os.tmpdir(), 'autotag-no-store-'));
  const cases: [string, string[], RegExp][] = [
    ['status on a DATA_DIR the service never used', ['status', '--json'], /no store at .*autotag\.db/],
    ['history on a DATA_DIR the service never used', ['history', '--user', 'U1', '--json'], /no store at .*autotag\.db/],
    ['dead-letters list with a bad --limit', ['dead-letters', 'list', '--json', '--limit', '0'], /^autotag dead-letters list: --limit must be a whole number/],
    ['status with a bad PORT (the error begins with the command, as serve\'s does)', ['status', '--json'], /^autotag status: invalid configuration:\n {2}PORT: /],
    ['history with a blank --user', ['history', '--user', '   ', '--json'], /^autotag history: --user ID is required \("   " is blank\)/],
    ['test with an unknown option', ['test', '--text', 'hi', '--json', '--bogus'], /unknown option '--bogus'/],
    ['test with a bad --at', ['test', '--text', 'hi', '--json', '--at', 'noon'], /--at/],
  ];
  it.each(cases)('%s', async (name, args, reason) => {
    const r = await runCli(args, { DATA_DIR: empty, RULES_DIR: path.join(empty, 'rules'), ...(name.includes('PORT') ? { PORT: '0' } : {}) });
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(reason);
    expect(r.code).toBe(1);
  });
});
