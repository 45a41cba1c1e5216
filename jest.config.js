/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // Type checking is done once by `npm run typecheck`; ts-jest only transpiles.
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  testTimeout: 30000,
  // Most suites wait on child processes, sockets and timers rather than the CPU: on CI's
  // two cores jest's default (cores − 1 = one worker) left the machine idle half the time.
  // Three workers halve the wall time (about 135 s instead of 285 s per pass).
  maxWorkers: 3,
  // AUTOTAG_TEST_CLOCK=<ISO time> runs the suite as if it were that time (see test/helpers/clock-shim.js).
  globalSetup: '<rootDir>/test/helpers/clock-global-setup.js',
  setupFiles: ['<rootDir>/test/helpers/clock-shim.js'],
};
