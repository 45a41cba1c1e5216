import fs from 'node:fs';
import path from 'node:path';
import { sqliteBacklog, sqlitePlan } from './backlog';

/**
 * Done operations are the desired state of everyone ever tagged: they stay, and are most of the
 * operations table. On SQLite every statement runs on the event loop, in front of webhooks, so no
 * statement of the store may read the whole table: each must search it, or read it through one of
 * its partial indexes (the pending, dead, leased or lifetime rows). This reads every statement the
 * store's SQL modules export and asks SQLite for its plan.
 */
const PARTIAL = /^SCAN \w+ USING (COVERING )?INDEX operations_(due|dead|expiry|expiring_user|leased)\b/;
const MODULES = ['sql', 'sqlite'].flatMap((dir) =>
  fs
    .readdirSync(path.join(__dirname, '../../src/store', dir))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => `${dir}/${f.replace(/\.ts$/, '')}`),
);

/** Every SQL text a module exports, at any depth of its exported objects, with its name. */
function statementsOf(name: string, value: unknown): [string, string][] {
  if (typeof value === 'string') return /^\s*(WITH|SELECT|UPDATE|DELETE|INSERT)\b/i.test(value) ? [[name, value]] : [];
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => statementsOf(`${name}.${k}`, v));
  return [];
}

describe('SQLite: no statement of the store reads the whole operations table', () => {
  let backlog: Awaited<ReturnType<typeof sqliteBacklog>>;
  beforeAll(async () => {
    backlog = await sqliteBacklog(500, 'plans');
  }, 60_000);
  afterAll(() => backlog?.remove());

  const statements = MODULES.flatMap((m) =>
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    Object.entries(require(`../../src/store/${m}`) as Record<string, unknown>).flatMap(([k, v]) => statementsOf(`${m}:${k}`, v)),
  );

  it('finds the statements (the sweep reads something)', () => {
    expect(statements.length).toBeGreaterThan(40);
    expect(statements.map(([n]) => n)).toEqual(expect.arrayContaining(['sql/views:OPERATION_COUNTS', 'sql/views:RELEASE_OPERATION_LEASES_OF']));
  });

  it('each statement searches operations or reads a partial index of it', () => {
    const wholeTable: string[] = [];
    for (const [name, sql] of statements) {
      let plan: string[];
      try {
        plan = sqlitePlan(backlog.db, sql);
      } catch (err) {
        throw new Error(`${name}: ${(err as Error).message}`);
      }
      for (const d of plan) if (/^SCAN operations\b/.test(d) && !PARTIAL.test(d)) wholeTable.push(`${name}: ${d}`);
    }
    expect(wholeTable).toEqual([]);
  });
});
