'use strict';
/**
 * Test-only: moves this process's wall clock by AUTOTAG_TEST_CLOCK_OFFSET_MS
 * milliseconds (`Date.now()` and `new Date()`; timers are untouched), so the whole
 * suite can run as if it were another time of the week. Loaded by jest (setupFiles)
 * in every test file and, through NODE_OPTIONS=--require, in every child process a
 * test starts (see test-clock.ts), so all of them agree on what "now" is.
 * The service itself knows nothing of it.
 */
const offset = Number(process.env.AUTOTAG_TEST_CLOCK_OFFSET_MS || '0');
if (Number.isFinite(offset) && offset !== 0 && !globalThis.Date.autotagShifted) {
  const RealDate = globalThis.Date;
  const now = () => RealDate.now() + offset;
  function ShiftedDate(...args) {
    // Called without `new`, Date() returns the current time as a string.
    if (!new.target) return new RealDate(now()).toString();
    return args.length === 0 ? new RealDate(now()) : new RealDate(...args);
  }
  ShiftedDate.prototype = RealDate.prototype;
  ShiftedDate.now = now;
  ShiftedDate.parse = RealDate.parse;
  ShiftedDate.UTC = RealDate.UTC;
  ShiftedDate.autotagShifted = true;
  globalThis.Date = ShiftedDate;
}
