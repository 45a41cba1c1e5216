import { activityPostgres, pruneActivityPostgres, recordActivityPostgres } from './postgres/activity';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log';
import type { ClaimOptions, ClaimedForward, DeadLetterRequest, RetryRequest, Store, WorkKind } from './store';
import { composeStore } from './shared/compose-store';
import { SETTLE_GATHER_MS, createGroupCommit } from './shared/group-commit';
import type { SettledOperation } from './shared/settle';
import type { Completion } from './postgres/operations';
import type { ForwardSettled, StoreEngine } from './shared/store-engine';
import { createPauseSignal, createWorkSignal } from './shared/work-signal';
import { PgDb, isUnavailable, type Notify } from './postgres/db';
import { startListener, type Listener } from './postgres/listener';
import type { DatabaseTlsEnv } from './postgres/tls-settings';
import { advisoryLockKey, withAdvisoryLock } from './postgres/advisory-lock';
import { startLiveness, type Liveness } from './postgres/liveness';
import { callerRolesPostgres } from './postgres/caller-holders';
import { migratePostgres } from './postgres/migrate';
import { adminSessionsPostgres } from './postgres/admin-sessions';
import { sharePausePostgres, storedPausesPostgres } from './postgres/pauses';
import { KEEP_RATE_ESTIMATE, RATE_ESTIMATES, rateEstimateParams, toRateEstimates } from './sql/rate-estimates';
import { acceptBatchesPostgres } from './postgres/accept';
import { claimForwardsPostgres, forwardKeyLockPrefix } from './postgres/forward-claim';
import { createAnnouncer } from './postgres/announcer';
import { claimOperationsPostgres, completeOperationsPostgres, expireOperationsPostgres, renewOperationLeasesPostgres, settleOperationPostgres } from './postgres/operations';
import {
  completeForwardsPostgres, deadLetterForwardsPostgres, deadLetterForwardsNotToPostgres, markForwardHeadsPostgres, retryForwardsPostgres,
} from './postgres/forwards';
import {
  accountlessOperationsPostgres,
  assignAccountPostgres,
  rescopePersonsPostgres,
  listDeadLettersPostgres,
  nextDueAtPostgres,
  nextExpiryAtPostgres,
  releaseLeasesPostgres,
  requeueDeadOperationsPostgres,
  retryDeadLettersPostgres,
  discardDeadLettersPostgres,
  deadOperationAccountsPostgres,
  deadForwardDestinationsPostgres,
  statusPostgres,
} from './postgres/views';
import {
  getSettingPostgres,
  prunePostgres,
  recentEventsPostgres,
  setSettingPostgres,
  userHistoryPostgres,
} from './postgres/history';

export interface PostgresStoreOptions {
  url: string;
  log: Logger;
  poolSize: number;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
  /** Every object lives in this schema, created if missing (tests give each their own). */
  schema?: string;
  /** DATABASE_SSL and libpq's PGSSL* variables (default: DATABASE_SSL=auto, none of the others). */
  tls?: DatabaseTlsEnv;
  /** How often accepted work of one kind is announced to other instances at most (default ANNOUNCE_WINDOW_MS; tests set their own). */
  announceWindowMs?: number;
  /** How often a destination's claims look for forward heads left unmarked (default FORWARD_HEADS_LOOK_MS; tests set their own). */
  forwardHeadsLookMs?: number;
}

/** The NOTIFY channel of one schema's instances (a database may hold several stores, one per schema). */
export function workChannel(schema: string | undefined): string {
  return schema ? `autotag_work_${schema}` : 'autotag_work';
}

/** Plain names only: the schema goes into search_path and the NOTIFY channel name (63 bytes at most). */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,39}$/;
/** How often a destination's claims look for heads left unmarked (postgres/forwards.ts, markForwardHeadsPostgres). */
export const FORWARD_HEADS_LOOK_MS = 10_000;
const UNIQUE_VIOLATION = '23505';

function describe(url: string, schema: string | undefined): string {
  let where = 'PostgreSQL';
  try {
    const u = new URL(url);
    where = `${u.hostname}:${u.port || '5432'}${u.pathname}`; // never the password
  } catch {
    // pg reports a malformed URL itself when it connects.
  }
  return schema ? `${where} (schema ${schema})` : where;
}

/**
 * The store for several instances sharing one database. Claims use FOR UPDATE
 * SKIP LOCKED; new work is announced to every instance with NOTIFY (sent in the
 * transaction that made it, so it arrives only if that commits); locks that must
 * hold across instances are advisory locks; a serving instance proves it is alive
 * with a session of its own (postgres/liveness.ts), and its claims name it.
 */
export function createPostgresStore(opts: PostgresStoreOptions): Store {
  if (opts.schema !== undefined && !SCHEMA_NAME.test(opts.schema)) {
    throw new Error(`PostgreSQL store: schema ${JSON.stringify(opts.schema)} must be lower-case letters, digits and _, at most 40 characters`);
  }
  const schema = opts.schema;
  const log = opts.log.child({ store: 'postgres' });
  const db = new PgDb({ ...opts, log });
  const ackLane = db.ackLane;
  const work = createWorkSignal(log);
  const pauses = createPauseSignal(log);
  const instance = randomUUID();
  const channel = workChannel(schema);
  let listener: Listener | undefined;
  let liveness: Liveness | undefined;
  let closed = false;

  const notices = { channel, operations: `${instance} operations`, forwards: `${instance} forwards` } satisfies Record<'channel' | WorkKind, string>;
  const notify: Notify = async (q, kind) => {
    await q('SELECT pg_notify($1, $2)', [channel, notices[kind]]);
  };

  function onNotify(payload: string): void {
    const [from, kind, ms, ...account] = payload.split(' ');
    // This instance already woke its own listeners when it committed (or paused its own account).
    if (from === instance) return;
    if (kind === 'operations' || kind === 'forwards') work.emit(kind satisfies WorkKind);
    // `<instance> pause <ms> <account>`: a Retry-After another instance met (Store.sharePause).
    else if (kind === 'pause' && Number(ms) > 0 && account.length) pauses.emit({ kind: 'shared', account: account.join(' '), ms: Number(ms) });
  }

  // Accepted work is announced at most once per window and kind (postgres/announcer.ts).
  const announcer = createAnnouncer({ send: (kind) => notify(db.query, kind), log, windowMs: opts.announceWindowMs });

  // Successful calls that end together are settled in one statement (see completeOperationsPostgres):
  // one round trip for many instead of BEGIN, UPDATE, INSERT, COMMIT for each.
  const completions = createGroupCommit<Completion, SettledOperation>({
    maxBatch: 64,
    gatherMs: SETTLE_GATHER_MS,
    retryAlone: (err) => !isUnavailable(err),
    commit: (items) => completeOperationsPostgres(db.statement, items, () => notify(db.query, 'operations')),
  });
  // Delivered forwards likewise, in one transaction of a few statements (completeForwardsPostgres),
  // and failed ones in one statement (retryForwardsPostgres).
  const forwardCompletions = createGroupCommit<{ fwd: ClaimedForward; owner: string }, ForwardSettled>({
    maxBatch: 64,
    gatherMs: SETTLE_GATHER_MS,
    retryAlone: (err) => !isUnavailable(err),
    commit: (items) => db.tx((q) => completeForwardsPostgres(q, items, notify)),
  });
  const forwardRetries = createGroupCommit<{ fwd: ClaimedForward; owner: string; retry: RetryRequest }, boolean>({
    maxBatch: 64,
    gatherMs: SETTLE_GATHER_MS,
    retryAlone: (err) => !isUnavailable(err),
    commit: (items) => retryForwardsPostgres(db.query, items),
  });
  // Forwards given up together (a destination down past FORWARD_GIVE_UP_MS) kept as dead letters together.
  const forwardDeadLetters = createGroupCommit<{ fwd: ClaimedForward; owner: string; now: number; dead: DeadLetterRequest }, ForwardSettled>({
    maxBatch: 64,
    gatherMs: SETTLE_GATHER_MS,
    retryAlone: (err) => !isUnavailable(err),
    commit: (items) => db.tx((q) => deadLetterForwardsPostgres(q, items, notify)),
  });

  // A head left unmarked by a race (markForwardHeadsPostgres) is marked by the next claim for its
  // destinations once this long has passed since they were last looked at.
  const headsLookedAt = new Map<string, number>();
  const forwardKeyLocks = forwardKeyLockPrefix(schema);
  async function claimForwards(o: ClaimOptions & { destinations?: string[] }): Promise<ClaimedForward[]> {
    const key = o.destinations ? o.destinations.join('\n') : '';
    const t = performance.now();
    if (t - (headsLookedAt.get(key) ?? -Infinity) >= (opts.forwardHeadsLookMs ?? FORWARD_HEADS_LOOK_MS)) {
      headsLookedAt.set(key, t);
      // A look that fails does not stop the claim: the next look comes after the interval.
      try {
        const marked = await markForwardHeadsPostgres(db.query, o.destinations);
        if (marked > 0) log.info('marked forwards that lead their key but were not marked as its head', { marked });
      } catch (err) {
        log.warn('could not look for forwards left unmarked as the head of their key', { error: err instanceof Error ? err.message : String(err) });
      }
    }
    return db.tx((q) => claimForwardsPostgres(q, o, liveness?.holder, forwardKeyLocks));
  }

  const engine: StoreEngine = {
    engine: 'postgres',
    where: describe(opts.url, schema),
    maxAcceptsPerCommit: 200,
    isUnavailable,
    migrate: (opts) => migratePostgres(db, schema, log, opts),
    acceptBatches: (batches) => acceptBatchesPostgres({ db: ackLane, notices, announcer }, batches),

    expireOperations: (scope, now) => expireOperationsPostgres(db.statement, scope, now),
    nextExpiryAt: (scope) => nextExpiryAtPostgres(db.query, scope),
    claimOperations: (o) => claimOperationsPostgres(db.query, o, liveness?.holder),
    settleOperation: (s, op, owner, now) =>
      s.kind === 'complete'
        ? completions.submit({ op, owner, now, outcome: s.outcome })
        : db.tx((q) => settleOperationPostgres(q, s, op, owner, now, notify)),
    renewOperationLeases: (ids, owner, until) => db.tx((q) => renewOperationLeasesPostgres(q, ids, owner, until)),

    claimForwards,
    completeForward: (fwd, owner) => forwardCompletions.submit({ fwd, owner }),
    retryForward: (fwd, owner, retry) => forwardRetries.submit({ fwd, owner, retry }),
    deadLetterForward: (fwd, owner, now, dead) => forwardDeadLetters.submit({ fwd, owner, now, dead }),

    releaseLeases: (owner) => db.tx((q) => releaseLeasesPostgres(q, owner, notify)),
    deadLetterForwardsNotTo: (destinations, now, reasonOf) => db.tx((q) => deadLetterForwardsNotToPostgres(q, destinations, now, reasonOf)),
    nextDueAt: (kind, scope) => nextDueAtPostgres(db.query, kind, scope),
    async status(now, o) {
      const status = await statusPostgres(db.query, now);
      if (!o?.callerAccounts) return status;
      return { ...status, callers: await callerRolesPostgres(db.query, { schema, accounts: o.callerAccounts, status, self: liveness?.holder }) };
    },
    listDeadLetters: (limit, after) => listDeadLettersPostgres(db.query, limit, after),
    retryDeadLetters: (which, now) => db.tx((q) => retryDeadLettersPostgres(q, which, now, notify)),
    discardDeadLetters: (which) => db.tx((q) => discardDeadLettersPostgres(q, which)),
    deadOperationAccounts: (ids) => deadOperationAccountsPostgres(db.query, ids),
    deadForwardDestinations: (ids) => deadForwardDestinationsPostgres(db.query, ids),
    requeueDeadOperations: (account, code, now) => db.tx((q) => requeueDeadOperationsPostgres(q, account, code, now, notify)),
    accountlessOperations: () => accountlessOperationsPostgres(db.query),
    assignAccount: (o, now) => db.tx((q) => assignAccountPostgres(q, o, now, notify)),
    async rescopePersons(o) {
      // An instance already serving may write a row of the scope of now between the merge
      // and the move (a unique violation): once more sees that row and merges with it.
      for (let attempt = 1; ; attempt++) {
        try {
          return await db.tx((q) => rescopePersonsPostgres(q, o, advisoryLockKey(schema, 'person-scope')));
        } catch (err) {
          if (attempt >= 3 || (err as { code?: unknown }).code !== UNIQUE_VIOLATION) throw err;
        }
      }
    },

    userHistory: (userId, limit) => userHistoryPostgres(db.query, userId, limit),
    recentEvents: (limit) => recentEventsPostgres(db.query, limit),
    prune: async (o) => {
      // The chart counts go with the history; the answer counts history entries, as before.
      await pruneActivityPostgres(db.query, o.historyBefore);
      return prunePostgres(db.query, o);
    },
    recordActivity: (rows) => recordActivityPostgres(db.query, rows),
    activity: (since) => activityPostgres(db.query, since),
    ...adminSessionsPostgres(db.query),
    getSetting: (key) => getSettingPostgres(db.query, key),
    setSetting: (key, value) => setSettingPostgres(db.query, key, value),
    sharePause: (account, until, now) => sharePausePostgres(db, { channel, instance, account, until, now }),
    storedPauses: (now) => storedPausesPostgres(db, now),
    keepRateEstimate: async (account, estimate) => {
      await db.query(KEEP_RATE_ESTIMATE, rateEstimateParams(account, estimate));
    },
    storedRateEstimates: async () => toRateEstimates((await db.query(RATE_ESTIMATES)).rows, log),
    withLock: (name, fn) => withAdvisoryLock(() => db.clientConfig(), advisoryLockKey(schema, name), fn),
    async startSession() {
      liveness ??= startLiveness({
        clientConfig: () => db.clientConfig(),
        schema,
        log,
        channel,
        wakePayloads: [notices.operations, notices.forwards],
        onGone() {
          work.emit('operations');
          work.emit('forwards');
        },
      });
      await liveness.started;
      return liveness;
    },
    async ping() {
      await db.query('SELECT 1 AS ok');
    },
    async close() {
      closed = true;
      await completions.drain();
      await forwardCompletions.drain();
      await forwardRetries.drain();
      await forwardDeadLetters.drain();
      // Before the connections go: work accepted in the last window is still announced.
      await announcer.flush();
      await listener?.stop();
      await liveness?.stop();
      await db.end();
    },
  };

  return composeStore(engine, {
    log,
    work,
    pauses,
    // LISTEN only once someone listens: CLI commands never open that connection.
    onSubscribe() {
      if (listener || closed) return;
      listener = startListener({
        clientConfig: () => db.clientConfig(),
        channel,
        log,
        onNotify,
        onReconnect() {
          // Work announced while the connection was down was not heard: look again.
          work.emit('operations');
          work.emit('forwards');
        },
        // Pauses shared before this connection listened (while it was down, or before the first
        // LISTEN of a start — after the worker read the stored ones) were not heard: read them.
        onListening() {
          pauses.emit({ kind: 'unheard' });
        },
      });
    },
  });
}
