import path from 'node:path';
import type { RuleCatalogue } from '../../../src/rules';

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

/** The environment's channels and accounts, and a channels file's: a LINE channel, a Meta app, two accounts. */
export const CATALOGUE: RuleCatalogue = {
  channels: new Map([
    ['line', ['line']],
    ['facebook', ['facebook', 'instagram', 'whatsapp']],
    ['whatsapp', ['whatsapp']],
    ['brand-a-line', ['line']],
    ['brand-b-meta', ['facebook', 'instagram', 'whatsapp']],
  ]),
  accounts: new Map([
    ['mantago', 'mantago'],
    ['botbonnie', 'botbonnie'],
    ['brand-a', 'mantago'],
    ['brand-b', 'botbonnie'],
  ]),
  file: 'channels.yaml',
};
