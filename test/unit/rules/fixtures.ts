import path from 'node:path';

/** The repository root: problem file names in these tests are relative to it. */
export const ROOT = path.resolve(__dirname, '../../..');

/** A folder under test/fixtures/rules/. */
export function fixture(...parts: string[]): string {
  return path.join(ROOT, 'test/fixtures/rules', ...parts);
}

/** The name a fixture file is reported under when the working directory is ROOT. */
export function reported(...parts: string[]): string {
  return path.join('test/fixtures/rules', ...parts);
}

/** A fixed "now" so examples without `at` do not depend on the day the tests run. */
export const NOW = Date.parse('2026-06-15T12:00:00Z');
