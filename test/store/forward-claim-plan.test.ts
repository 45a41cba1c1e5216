import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../src/log';
import { createSqliteStore } from '../../src/store/sqlite';
import { SqliteDb } from '../../src/store/sqlite/db';
import { CLAIM_FORWARDS_TO } from '../../src/store/sqlite/forwards';

/**
 * A claim for one forward destination reads that destination's forwards that are due, through
 * forwards_due (store step 11) — not every pending forward of every destination, which is what
 * its head query did: with one failing destination's backlog of tens of thousands, every other
 * destination's claim read them all (59 ms a claim on the event loop at 84,000, webhooks
 * answered after 17 s in the soak audit). The plan is SQLite's own account of what it reads.
 */
describe('a forward claim for one destination (SQLite)', () => {
  it('searches forwards_due by destination and due time, and no statement in it scans the table', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autotag-claim-plan-'));
    try {
      const file = path.join(dir, 'autotag.db');
      const store = createSqliteStore({ file, log: silentLogger() });
      await store.migrate();
      await store.close();
      const db = SqliteDb.open(file);
      try {
        const plan = db.all(`EXPLAIN QUERY PLAN ${CLAIM_FORWARDS_TO}`, ['w', 2, 1, 8, JSON.stringify(['https://a.example/hook'])]).map((r) => String(r.detail));
        expect(plan).toContainEqual(expect.stringMatching(/^SEARCH f USING INDEX forwards_due \(destination=\? AND due_at<\?\)$/));
        // The head check: a search of forwards_heads for the key's earlier forwards.
        expect(plan).toContainEqual(expect.stringMatching(/^SEARCH p USING COVERING INDEX forwards_heads \(destination=\? AND ordering_key=\? AND (?:rowid|id)<\?\)$/));
        expect(plan.filter((d) => /^SCAN (forwards|f|p)\b/.test(d))).toEqual([]);
      } finally {
        db.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
