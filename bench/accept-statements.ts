/**
 * What each statement of an accepted webhook costs on SQLite, no HTTP and no fsync: a
 * migrated file, BENCH_WEBHOOKS (default 100,000) webhooks written with the accept's own
 * statements (seen key, history row, desired-state upsert), BENCH_BATCH (default 200) per
 * relaxed transaction as a group commit would, with the accept's own parameter lists. Prints µs per webhook for each statement
 * and for the rest of the transaction (BEGIN, COMMIT: the pages appended to the WAL).
 * A tool for finding where the ack path's time goes; not part of `npm run bench`.
 * `tsc -p tsconfig.bench.json && BENCH_BATCH=1 node build-bench/bench/accept-statements.js`
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../src/log';
import { historyEventParams, INSERT_HISTORY_EVENT, INSERT_SEEN, UPSERT_OPERATION, upsertOperationParams } from '../src/store/sqlite/accept';
import type { TagOperation } from '../src/tag-operation';
import { SqliteDb } from '../src/store/sqlite/db';
import { migrateSqlite } from '../src/store/sqlite/migrate';

const WEBHOOKS = Number(process.env.BENCH_WEBHOOKS ?? 100_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 200);

function main(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'accept-statements-'));
  const db = SqliteDb.open(path.join(dir, 'autotag.db'));
  try {
    migrateSqlite(db, silentLogger());
    const spent = { seen: 0n, history: 0n, upsert: 0n, transaction: 0n, making: 0n };
    const start = Date.now();
    let n = 0;
    while (n < WEBHOOKS) {
      const now = start + n;
      const began = process.hrtime.bigint();
      db.relaxed(() =>
        db.tx(() => {
          for (let i = 0; i < BATCH && n < WEBHOOKS; i++, n++) {
            // Every value is made before the statements' clock starts, and its time is left out of all figures.
            const making = process.hrtime.bigint();
            const user = `U${n.toString(16).padStart(32, '0')}`;
            const op: TagOperation = { action: 'add', provider: 'mantago', kind: 'personal', tagId: 'coupon', platform: 'line', recipient: 'Ubot', userId: user, account: 'mantago', channel: 'default' };
            const seen = [`line:channel:${n}`, now];
            const history = historyEventParams({
              receivedAt: now, platform: 'line', channel: 'default', recipient: 'Ubot', userId: user, eventId: `ev-${n}`, kind: 'message', type: 'text',
              text: '我要優惠券', postbackData: null, matched: '["coupon"]', operations: JSON.stringify([op]), eventAt: now,
            });
            const upsert = upsertOperationParams({ op, eventAt: now, expiresAt: null, rule: null }, now);
            const t0 = process.hrtime.bigint();
            db.run(INSERT_SEEN, seen);
            const t1 = process.hrtime.bigint();
            db.run(INSERT_HISTORY_EVENT, history);
            const t2 = process.hrtime.bigint();
            db.all(UPSERT_OPERATION, upsert);
            const t3 = process.hrtime.bigint();
            spent.seen += t1 - t0;
            spent.history += t2 - t1;
            spent.upsert += t3 - t2;
            spent.making += t0 - making;
          }
        }),
      );
      spent.transaction += process.hrtime.bigint() - began;
    }
    const us = (ns: bigint) => `${(Number(ns) / 1000 / WEBHOOKS).toFixed(2)} µs`;
    spent.transaction -= spent.making;
    const rest = spent.transaction - spent.seen - spent.history - spent.upsert;
    console.log(`SQLite, ${WEBHOOKS} webhooks, ${BATCH} per transaction, per webhook:`);
    console.log(`  seen key ${us(spent.seen)}, history row ${us(spent.history)}, desired-state upsert ${us(spent.upsert)}`);
    console.log(`  the rest of the transaction (BEGIN, COMMIT) ${us(rest)}; all ${us(spent.transaction)}`);
    console.log(JSON.stringify({ bench: 'accept-statements', webhooks: WEBHOOKS, batch: BATCH, seen_us: Number(spent.seen) / 1000 / WEBHOOKS, history_us: Number(spent.history) / 1000 / WEBHOOKS, upsert_us: Number(spent.upsert) / 1000 / WEBHOOKS, transaction_us: Number(spent.transaction) / 1000 / WEBHOOKS }));
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
