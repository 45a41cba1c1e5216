import type { Logger } from '../log';
import type { AcceptBatch, AcceptResult, ClaimedOperation, Store, WorkKind } from './store';
import { StoreUnavailableError } from './store';
import { createGroupCommit } from './shared/group-commit';
import { createNamedMutex } from './shared/named-mutex';
import { createWorkSignal } from './shared/work-signal';
import type { OperationSettlement } from './shared/settle';
import { SqliteDb } from './sqlite/db';
import { migrateSqlite } from './sqlite/migrate';
import { acceptBatchesSqlite } from './sqlite/accept';
import { claimOperationsSqlite, renewOperationLeasesSqlite, settleOperationSqlite } from './sqlite/operations';
import { claimForwardsSqlite, completeForwardSqlite, deadLetterForwardSqlite, retryForwardSqlite } from './sqlite/forwards';
import {
  listDeadLettersSqlite,
  nextDueAtSqlite,
  releaseLeasesSqlite,
  requeueDeadOperationsSqlite,
  retryDeadLettersSqlite,
  statusSqlite,
} from './sqlite/views';
import { getSettingSqlite, pruneSqlite, recentEventsSqlite, setSettingSqlite, userHistorySqlite } from './sqlite/history';

export interface SqliteStoreOptions {
  /** The database file; its folder is created if missing. */
  file: string;
  log: Logger;
}

/** Webhooks per shared commit: enough to amortise the fsync, small enough to keep the write lock briefly. */
const MAX_ACCEPTS_PER_COMMIT = 200;

/**
 * The embedded store: one SQLite file, for one running instance (CLI commands may
 * open the same file beside it). better-sqlite3 is synchronous, so every
 * transaction runs start to end without an await in the middle.
 */
export function createSqliteStore(opts: SqliteStoreOptions): Store {
  const log = opts.log.child({ store: 'sqlite' });
  const db = SqliteDb.open(opts.file);
  const work = createWorkSignal(log);
  const locks = createNamedMutex();
  let closed = false;

  const commits = createGroupCommit<AcceptBatch, AcceptResult>({
    maxBatch: MAX_ACCEPTS_PER_COMMIT,
    retryAlone: (err) => !(err instanceof StoreUnavailableError),
    async commit(batches) {
      const results = db.tx(() => acceptBatchesSqlite(db, batches));
      if (results.some((r) => r.operationsQueued > 0)) work.emit('operations');
      if (results.some((r) => r.forwardsQueued > 0)) work.emit('forwards');
      return results;
    },
  });

  function open(): SqliteDb {
    if (closed) throw new Error(`the SQLite store at ${opts.file} is closed`);
    return db;
  }

  async function settle(s: OperationSettlement, op: ClaimedOperation, owner: string, now: number): Promise<boolean> {
    const settled = settleOperationSqlite(open(), s, op, owner, now);
    if (!settled.touched) {
      log.warn('operation not settled: its lease is no longer held by this owner', { id: op.id, owner, settlement: s.kind });
      return false;
    }
    if (!settled.sameVersion) work.emit('operations');
    return settled.sameVersion;
  }

  function wakeFor(counts: Record<WorkKind, number>): number {
    if (counts.operations > 0) work.emit('operations');
    if (counts.forwards > 0) work.emit('forwards');
    return counts.operations + counts.forwards;
  }

  return {
    engine: 'sqlite',

    async migrate() {
      migrateSqlite(open(), log);
    },

    accept(batch) {
      if (closed) return Promise.reject(new Error(`the SQLite store at ${opts.file} is closed`));
      return commits.submit(batch);
    },

    async claimOperations(o) {
      return claimOperationsSqlite(open(), o);
    },
    completeOperation: (op, owner, now, outcome) => settle({ kind: 'complete', outcome }, op, owner, now),
    async retryOperation(op, owner, now, retry) {
      await settle({ kind: 'retry', retry }, op, owner, now);
    },
    async deadLetterOperation(op, owner, now, dead) {
      await settle({ kind: 'dead', dead }, op, owner, now);
    },
    async renewOperationLeases(ids, owner, now, leaseMs) {
      renewOperationLeasesSqlite(open(), ids, owner, now + leaseMs);
    },

    async claimForwards(o) {
      return claimForwardsSqlite(open(), o);
    },
    async completeForward(fwd, owner) {
      const r = completeForwardSqlite(open(), fwd, owner);
      if (!r.touched) log.warn('forward not completed: its lease is no longer held by this owner', { id: fwd.id, owner });
      if (r.next) work.emit('forwards');
    },
    async retryForward(fwd, owner, _now, retry) {
      if (!retryForwardSqlite(open(), fwd, owner, retry)) {
        log.warn('forward not rescheduled: its lease is no longer held by this owner', { id: fwd.id, owner });
      }
    },
    async deadLetterForward(fwd, owner, now, dead) {
      const r = deadLetterForwardSqlite(open(), fwd, owner, now, dead);
      if (!r.touched) log.warn('forward not dead-lettered: its lease is no longer held by this owner', { id: fwd.id, owner });
      if (r.next) work.emit('forwards');
    },

    async releaseLeases(owner) {
      const n = releaseLeasesSqlite(open(), owner);
      if (n > 0) wakeFor({ operations: 1, forwards: 1 });
      return n;
    },
    async releaseAllLeases() {
      return releaseLeasesSqlite(open(), undefined);
    },
    async nextDueAt(kind) {
      return nextDueAtSqlite(open(), kind);
    },

    async status(now) {
      return statusSqlite(open(), now);
    },
    async listDeadLetters(limit = 100) {
      return listDeadLettersSqlite(open(), limit);
    },
    async retryDeadLetters(which, now) {
      return wakeFor(retryDeadLettersSqlite(open(), which, now));
    },
    async requeueDeadOperations(provider, reasonPrefix, now) {
      return wakeFor({ operations: requeueDeadOperationsSqlite(open(), provider, reasonPrefix, now), forwards: 0 });
    },

    async userHistory(userId, limit = 100) {
      return userHistorySqlite(open(), userId, limit);
    },
    async recentEvents(limit) {
      return recentEventsSqlite(open(), limit);
    },
    async prune(o) {
      return pruneSqlite(open(), o);
    },

    async getSetting(key) {
      return getSettingSqlite(open(), key);
    },
    async setSetting(key, value) {
      setSettingSqlite(open(), key, value);
    },
    // One instance per file (see DESIGN.md), so a lock in this process excludes every holder.
    withLock: (name, fn) => locks.run(name, fn),
    onWork: (listener) => work.on(listener),

    async ping() {
      open().all('SELECT 1 AS ok');
    },
    async close() {
      if (closed) return;
      await commits.drain();
      closed = true;
      db.close();
    },
  };
}
