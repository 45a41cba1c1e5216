import type { Logger } from '../log';
import type { Store } from './store';
import { composeStore } from './shared/compose-store';
import { SETTLE_GATHER_MS, createGroupCommit } from './shared/group-commit';
import type { StoreEngine } from './shared/store-engine';
import { createWorkSignal } from './shared/work-signal';
import { ALWAYS_LIVE } from './shared/always-live';
import { StoreUnavailableError } from './store';
import { SqliteDb } from './sqlite/db';
import { SqliteReader } from './sqlite/reader';
import { WalSync, type Fdatasync } from './sqlite/wal-sync';
import { migrateSqlite } from './sqlite/migrate';
import { acceptBatchesSqlite } from './sqlite/accept';
import { claimOperationsSqlite, expireOperationsSqlite, renewOperationLeasesSqlite, settleOperationSqlite } from './sqlite/operations';
import { claimForwardsSqlite, completeForwardSqlite, deadLetterForwardSqlite, deadLetterForwardsNotToSqlite, retryForwardSqlite } from './sqlite/forwards';
import {
  accountlessOperationsSqlite,
  assignAccountSqlite,
  rescopePersonsSqlite,
  listDeadLettersSqlite,
  nextDueAtSqlite,
  nextExpiryAtSqlite,
  releaseLeasesSqlite,
  requeueDeadOperationsSqlite,
  retryDeadLettersSqlite,
  discardDeadLettersSqlite,
  deadOperationAccountsSqlite,
  deadForwardDestinationsSqlite,
  statusSqlite,
} from './sqlite/views';
import { activitySqlite, pruneActivitySqlite, recordActivitySqlite } from './sqlite/activity';
import { adminSessionsSqlite } from './sqlite/admin-sessions';
import { pausesSqlite } from './sqlite/pauses';
import { rateEstimatesSqlite } from './sqlite/rate-estimates';
import { getSettingSqlite, pruneSqlite, recentEventsSqlite, setSettingSqlite, userHistorySqlite } from './sqlite/history';

/** How often a serving store looks for commits by another process on its file (see `watchOtherWriters`). */
export const OTHER_WRITERS_POLL_MS = 200;

export interface SqliteStoreOptions {
  /** The database file; its folder is created if missing. */
  file: string;
  log: Logger;
  /** How the WAL is flushed to disk (default: fs.fdatasync on the thread pool); tests hold it to see what waits for it. */
  fdatasync?: Fdatasync;
}

/**
 * The embedded store: one SQLite file, for one running instance (CLI commands may
 * open the same file beside it). better-sqlite3 is synchronous, so every
 * transaction runs start to end without an await in the middle.
 */
export function createSqliteStore(opts: SqliteStoreOptions): Store {
  const log = opts.log.child({ store: 'sqlite' });
  const db = SqliteDb.open(opts.file);
  const wal = new WalSync(`${opts.file}-wal`, opts.fdatasync);
  const reader = new SqliteReader(opts.file);
  /**
   * A transaction that must be on disk before the caller answers (an accepted webhook, a
   * settled attempt): committed without a flush, then made durable by an fdatasync of the
   * WAL on the thread pool (see WalSync) — the same guarantee as synchronous=FULL, without
   * blocking the event loop for the fsync. Transactions that ask while a flush runs share the next.
   */
  const durable = async <T>(fn: () => T): Promise<T> => {
    const result = db.relaxed(() => db.tx(fn));
    await wal.sync();
    return result;
  };
  // The worker's writes, one or two per tag call or forward. A claim or lease renewal
  // needs no fsync: one instance serves a file and releases every lease at start, so a
  // lease a power cut undoes is released anyway (relaxed). Settling an attempt stays
  // durable, but the settles of calls that end together share one commit, as accepts do.
  // One fsync per claim and per settle (each blocking the event loop) held the worker to
  // ~230 calls/s at 8 in flight and starved the webhook route (bench/drain, bench/ack).
  const settles = createGroupCommit<() => unknown, unknown>({
    maxBatch: 64,
    gatherMs: SETTLE_GATHER_MS,
    retryAlone: (err) => !(err instanceof StoreUnavailableError),
    commit: async (writes) => durable(() => writes.map((write) => write())),
  });
  const settled = <T>(write: () => T) => settles.submit(write) as Promise<T>;
  const work = createWorkSignal(log);
  let stopWatching: (() => void) | undefined;
  const engine: StoreEngine = {
    engine: 'sqlite',
    where: opts.file,
    // Enough webhooks to share one fsync, few enough to keep the write lock briefly.
    maxAcceptsPerCommit: 200,
    isUnavailable: (err) => err instanceof StoreUnavailableError,
    migrate: async (opts) => migrateSqlite(db, log, opts),
    acceptBatches: (batches) => durable(() => acceptBatchesSqlite(db, batches)),

    expireOperations: async (scope, now) => expireOperationsSqlite(db, scope, now),
    nextExpiryAt: async (scope) => nextExpiryAtSqlite(db, scope),
    claimOperations: async (o) => db.relaxed(() => claimOperationsSqlite(db, o)),
    settleOperation: (s, op, owner, now) => settled(() => settleOperationSqlite(db, s, op, owner, now)),
    renewOperationLeases: async (ids, owner, until) => db.relaxed(() => renewOperationLeasesSqlite(db, ids, owner, until)),

    claimForwards: async (o) => db.relaxed(() => claimForwardsSqlite(db, o)),
    completeForward: (fwd, owner) => settled(() => completeForwardSqlite(db, fwd, owner)),
    retryForward: (fwd, owner, retry) => settled(() => retryForwardSqlite(db, fwd, owner, retry)),
    deadLetterForward: (fwd, owner, now, dead) => settled(() => deadLetterForwardSqlite(db, fwd, owner, now, dead)),

    releaseLeases: async (owner) => releaseLeasesSqlite(db, owner),
    deadLetterForwardsNotTo: async (destinations, now, reasonOf) => deadLetterForwardsNotToSqlite(db, destinations, now, reasonOf),
    nextDueAt: async (kind, scope) => nextDueAtSqlite(db, kind, scope),
    status: (now) => statusSqlite(reader, now),
    listDeadLetters: async (limit, after) => listDeadLettersSqlite(db, limit, after),
    retryDeadLetters: async (which, now) => retryDeadLettersSqlite(db, which, now),
    discardDeadLetters: async (which) => discardDeadLettersSqlite(db, which),
    deadOperationAccounts: async (ids) => deadOperationAccountsSqlite(db, ids),
    deadForwardDestinations: async (ids) => deadForwardDestinationsSqlite(db, ids),
    requeueDeadOperations: async (account, code, now) => requeueDeadOperationsSqlite(db, account, code, now),
    accountlessOperations: async () => accountlessOperationsSqlite(db),
    assignAccount: async (o, now) => assignAccountSqlite(db, o, now),
    rescopePersons: async (o) => rescopePersonsSqlite(db, o),

    userHistory: async (userId, limit) => userHistorySqlite(db, userId, limit),
    recentEvents: async (limit) => recentEventsSqlite(db, limit),
    prune: async (o) => {
      // The chart counts go with the history; the answer counts history entries, as before.
      pruneActivitySqlite(db, o.historyBefore);
      return pruneSqlite(db, o);
    },
    recordActivity: async (rows) => recordActivitySqlite(db, rows),
    activity: async (since) => activitySqlite(db, since),
    ...adminSessionsSqlite(db),
    ...pausesSqlite(db),
    ...rateEstimatesSqlite(db, log),
    getSetting: async (key) => getSettingSqlite(db, key),
    setSetting: async (key, value) => setSettingSqlite(db, key, value),
    // One serving instance per file (see DESIGN.md): the in-process mutex excludes every holder.
    withLock: (_name, fn) => fn(),
    // One instance per file: nobody else could take its leases, and Delivery releases them all at start.
    startSession: async () => ALWAYS_LIVE,
    ping: async () => {
      db.all('SELECT 1 AS ok');
    },
    async close() {
      stopWatching?.();
      await settles.drain();
      await wal.close();
      await reader.close();
      db.close();
    },
  };
  return composeStore(engine, {
    log,
    work,
    // Only a process that listens for work (serve) watches; CLI commands never do.
    onSubscribe() {
      stopWatching ??= watchOtherWriters(db, log, () => {
        work.emit('operations');
        work.emit('forwards');
      });
    },
  });
}

/**
 * Work that another process commits to the same file — `autotag dead-letters retry` beside
 * `serve` — is not announced in this process: SQLite's `data_version` changes whenever
 * another connection commits, so a look every OTHER_WRITERS_POLL_MS (a microsecond's pragma)
 * wakes the workers at once instead of leaving the work to their idle timer (up to 5 s).
 * A commit of this process's own never changes it. Returns the function that stops watching.
 */
function watchOtherWriters(db: SqliteDb, log: Logger, onChange: () => void): () => void {
  let last: unknown;
  const look = () => {
    try {
      const version: unknown = db.raw.pragma('data_version', { simple: true });
      if (last !== undefined && version !== last) onChange();
      last = version;
    } catch (err) {
      // A busy or closing file: the next look tries again, the idle timer remains the fallback.
      log.debug('could not read the SQLite data_version', { err });
    }
  };
  look();
  const timer = setInterval(look, OTHER_WRITERS_POLL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
