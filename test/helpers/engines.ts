import type { HarnessEngine } from './app-harness';
import { describePostgres } from './pg-schema';

/** The same block on both store engines: SQLite always, PostgreSQL when TEST_DATABASE_URL is set. */
export function describeEachEngine(name: string, fn: (on: HarnessEngine) => void): void {
  describe(`${name} (SQLite)`, () => fn({ engine: 'sqlite' }));
  describePostgres(`${name} (PostgreSQL)`, (url) => fn({ engine: 'postgres', url }));
}
