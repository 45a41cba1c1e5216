import path from 'node:path';
import { runCli } from '../cli/cli-run';

/**
 * The suite runs twice (`npm test`): with AUTOTAG_TEST_CLOCK outside and inside the
 * shipped Double-12 night-owl window (2026-12-01 … 12, Sat/Sun 22:00–06:00 Taipei), and
 * must pass both times. These tests show the clock really moves — in the jest worker
 * and in the processes tests start — so neither pass can pass by accident.
 */

const SHIM = path.resolve(__dirname, '../helpers/clock-shim.js');
const SATURDAY_NIGHT = Date.parse('2026-12-05T22:48:00+08:00');
const WEDNESDAY_NOON = Date.parse('2026-12-09T12:00:00+08:00');

/** `autotag test --text hi` with the shipped rules and no --at, in a process whose clock reads `at`. */
async function matchedAt(at: number): Promise<string[]> {
  const offset = String(at - realNow());
  const r = await runCli(['test', '--text', 'hi', '--json'], {
    RULES_DIR: 'rules',
    AUTOTAG_TEST_CLOCK_OFFSET_MS: offset,
    NODE_OPTIONS: `--require "${SHIM}"`,
  });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as { matched: string[] }).matched;
}

/** The machine's own clock, whatever the suite's shim says. */
function realNow(): number {
  return Date.now() - Number(process.env.AUTOTAG_TEST_CLOCK_OFFSET_MS || '0');
}

describe('the test clock', () => {
  it('moves the clock of a process the tests start', async () => {
    expect(await matchedAt(SATURDAY_NIGHT)).toEqual(['double-12-night-owls']);
    expect(await matchedAt(WEDNESDAY_NOON)).toEqual([]);
  });

  it('moves the clock of the tests themselves when AUTOTAG_TEST_CLOCK is set', () => {
    const at = process.env.AUTOTAG_TEST_CLOCK;
    if (at === undefined) {
      expect(process.env.AUTOTAG_TEST_CLOCK_OFFSET_MS).toBeUndefined();
      return;
    }
    // The suite started at `at`; it has been running for less than an hour since.
    const elapsed = Date.now() - Date.parse(at);
    expect(elapsed).toBeGreaterThanOrEqual(0);
    expect(elapsed).toBeLessThan(3_600_000);
    expect(new Date().getTime() - Date.now()).toBeLessThanOrEqual(5);
  });
});
