import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;

/** A fresh schema name for one test; `dropSchema` removes it and everything in it. */
export function newSchemaName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await c.end();
  }
}

/**
 * `describe` when TEST_DATABASE_URL is set; otherwise a skipped block whose title says
 * why (CONTRACT.md: PostgreSQL tests say they were skipped).
 */
export function describePostgres(name: string, fn: (url: string) => void): void {
  if (TEST_DATABASE_URL) {
    describe(name, () => fn(TEST_DATABASE_URL));
  } else {
    // eslint-disable-next-line no-console
    console.warn(`${name}: skipped, TEST_DATABASE_URL is not set`);
    describe.skip(`${name} (skipped: TEST_DATABASE_URL is not set)`, () => {
      it('needs PostgreSQL', () => undefined);
    });
  }
}
