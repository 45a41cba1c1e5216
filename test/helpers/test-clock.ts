import path from 'node:path';

const SHIM = path.resolve(__dirname, 'clock-shim.js');

/**
 * The environment a child process needs to share the suite's clock (see
 * clock-shim.js): empty unless the suite runs under AUTOTAG_TEST_CLOCK.
 * Every helper that starts a process passes this on.
 */
export function testClockEnv(): Record<string, string> {
  const offset = process.env.AUTOTAG_TEST_CLOCK_OFFSET_MS;
  if (!offset) return {};
  return { AUTOTAG_TEST_CLOCK_OFFSET_MS: offset, NODE_OPTIONS: `--require "${SHIM}"` };
}
