import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../src/log';
import { createSqliteStore } from '../../src/store/sqlite';
import { SqliteDb } from '../../src/store/sqlite/db';
import { CLAIM_FORWARDS_TO } from '../../src/store/sqlite/forwards';

/**
 * A claim for one forward destination reads that destination's pending forwards only — its
 * heads, through forwards_heads searched by destination — not every pending forward of every
 * destination, which is what its head query did: with one failing destination's backlog of tens
 * of thousands, every other destination's claim read them all (59 ms a claim on the event loop
 * at 84,000, webhooks answered after 17 s in the soak audit). The plan is SQLite's own account
 * of what it reads; bench/forward-claims.ts measures it.
 */
describe('a forward claim for one destination (SQLite)', () => {
  it('searches forwards_heads by destination for the heads, and no statement in it scans the table', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autotag-claim-plan-'));
    try {
      const file = path.join(dir, 'autotag.db');
      const store = createSqliteStore({ file, log: silentLogger() });
      await store.migrate();
      await store.close();
      const db = SqliteDb.open(file);
      try {
        const plan = db.all(`EXPLAIN QUERY PLAN ${CLAIM_FORWARDS_TO}`, ['w', 2, 1, 8, JSON.stringify(['https://a.example/hook'])]).map((r) => String(r.detail));
        expect(plan).toContainEqual(expect.stringMatching(/^SEARCH forwards USING COVERING INDEX forwards_heads \(destination=\?\)$/));
        expect(plan.filter((d) => /^SCAN forwards\b/.test(d))).toEqual([]);
      } finally {
        db.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
