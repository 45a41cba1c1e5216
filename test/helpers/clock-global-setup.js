'use strict';
/**
 * Test-only: `AUTOTAG_TEST_CLOCK=<ISO time>` runs the whole suite as if the clock
 * read that time when jest started. The offset is computed once, here, and handed to
 * every worker and child process, so they all move by exactly the same amount.
 */
module.exports = async () => {
  const at = process.env.AUTOTAG_TEST_CLOCK;
  if (!at) return;
  const t = Date.parse(at);
  if (!/[zZ]|[+-]\d\d:\d\d$/.test(at) || !Number.isFinite(t)) {
    throw new Error(`AUTOTAG_TEST_CLOCK: ${JSON.stringify(at)} is not an ISO 8601 time with an offset, e.g. 2026-12-05T22:48:00+08:00`);
  }
  process.env.AUTOTAG_TEST_CLOCK_OFFSET_MS = String(t - Date.now());
  // eslint-disable-next-line no-console
  console.log(`\nRunning the suite with the clock set to ${at}\n`);
};
