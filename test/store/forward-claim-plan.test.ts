import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../src/log';
import { createSqliteStore } from '../../src/store/sqlite';
import { SqliteDb } from '../../src/store/sqlite/db';
import { CLAIM_FORWARDS_TO } from '../../src/store/sqlite/forwards';
import { NEXT_DUE } from '../../src/store/sqlite/views';

/**
 * A claim for one forward destination, and its next-due check, read that destination's due
 * heads only — through forwards_due_heads, each checked to lead its key by one probe of
 * forwards_heads — not every pending forward of every destination (with one failing
 * destination's backlog of tens of thousands, every other destination's claim read them all:
 * 59 ms a claim on the event loop at 84,000, webhooks answered after 17 s in the soak audit),
 * nor the destination's own backlog of forwards waiting behind their key's head or for their
 * next attempt (a failing destination's own claims, one per webhook, read it all: 19 ms a claim
 * at 50,000; bench/failing-destination.ts). The plans are SQLite's own account of what each
 * statement reads; bench/forward-claims.ts measures them. A head is also checked to have no
 * forward of its key in flight: against the keys of the destination's calls in flight, read
 * once through forwards_leased — not every forward of its key (one key can hold a destination's
 * whole backlog).
 */
describe('a forward claim and next-due check for one destination (SQLite)', () => {
  let dir: string;
  let db: SqliteDb;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autotag-claim-plan-'));
    const file = path.join(dir, 'autotag.db');
    const store = createSqliteStore({ file, log: silentLogger() });
    await store.migrate();
    await store.close();
    db = SqliteDb.open(file);
  });
  afterAll(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const plan = (sql: string, params: unknown[]) => db.all(`EXPLAIN QUERY PLAN ${sql}`, params as never).map((r) => String(r.detail));

  it('claims through forwards_due_heads by destination and due time, in its order, each head checked by one probe of forwards_heads', () => {
    const steps = plan(CLAIM_FORWARDS_TO, ['w', 2, 1, 8, 'https://a.example/hook']);
    expect(steps).toContainEqual(expect.stringMatching(/^SEARCH f USING INDEX forwards_due_heads \(destination=\? AND due_at<\?\)$/));
    expect(steps).toContainEqual(expect.stringMatching(/^CORRELATED SCALAR SUBQUERY \d+$/));
    expect(steps).toContainEqual(expect.stringMatching(/^SEARCH k USING COVERING INDEX forwards_heads \(destination=\? AND ordering_key=\?\)$/));
    // The keys of the destination's calls in flight, read once (not for each head) through forwards_leased, not its keys' backlog.
    expect(steps).toContainEqual(expect.stringMatching(/^LIST SUBQUERY \d+$/));
    expect(steps).toContainEqual(expect.stringMatching(/^SEARCH l USING INDEX forwards_leased \(destination=\? AND leased_until>\?\)$/));
    expect(steps.filter((d) => /^CORRELATED LIST SUBQUERY/.test(d))).toEqual([]);
    expect(steps.filter((d) => /^SCAN (forwards|f|k|l)\b/.test(d))).toEqual([]);
    // In index order: a claim of 8 stops at the 8th due head that leads its key, no sort of every due head.
    expect(steps.filter((d) => /TEMP B-TREE/.test(d))).toEqual([]);
  });

  it('tells the next due time from the first due head that leads its key, and from the leases in flight', () => {
    const steps = plan(NEXT_DUE.destinationForwards, ['https://a.example/hook']);
    expect(steps).toContainEqual(expect.stringMatching(/^SEARCH f USING INDEX forwards_due_heads \(destination=\?\)$/));
    expect(steps).toContainEqual(expect.stringMatching(/^SEARCH f USING INDEX forwards_leased \(destination=\? AND leased_until>\?\)$/));
    // The keys in flight, read once; and for each lease, its key's head by one probe of forwards_heads and one of the primary key.
    expect(steps).toContainEqual(expect.stringMatching(/^SEARCH l USING INDEX forwards_leased \(destination=\? AND leased_until>\?\)$/));
    expect(steps).toContainEqual(expect.stringMatching(/^SEARCH h USING INTEGER PRIMARY KEY \(rowid=\?\)$/));
    expect(steps.filter((d) => /^CORRELATED LIST SUBQUERY/.test(d))).toEqual([]);
    expect(steps.filter((d) => /^SCAN (forwards|f|k|l|h)\b/.test(d))).toEqual([]);
    // In index order: the first row that qualifies is the earliest, no sort of every head.
    expect(steps.filter((d) => /TEMP B-TREE/.test(d))).toEqual([]);
  });
});
