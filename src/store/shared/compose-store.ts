import type { Logger } from '../../log';
import type { AcceptBatch, AcceptResult, ClaimedOperation, InstanceSession, Store, WorkKind } from '../store';
import { countAccepted, countSettled } from './activity-counts';
import { createActivityRecorder, minuteOf } from './activity-recorder';
import { createGroupCommit } from './group-commit';
import { createCommitProbe } from './commit-probe';
import { createNamedMutex } from './named-mutex';
import { createExpiryWatch } from './expiry-watch';
import { storableBatch } from './storable-text';
import type { OperationSettlement } from './settle';
import type { StoreEngine } from './store-engine';
import type { PauseSignal, WorkSignal } from './work-signal';

/** The settings row the readiness probe writes. */
export const COMMIT_PROBE_KEY = 'readiness.commit-probe';

/**
 * The part of a Store both engines share: accepts grouped into shared commits,
 * in-process wake-ups after anything that makes work due, a mutex per lock name,
 * a readiness probe, and a warning when a worker settles a row it no longer holds.
 */
export function composeStore(engine: StoreEngine, deps: { log: Logger; work: WorkSignal; pauses?: PauseSignal; onSubscribe?: () => void }): Store {
  const { log, work } = deps;
  const locks = createNamedMutex();
  let closed = false;
  let session: Promise<InstanceSession> | undefined;
  const activity = createActivityRecorder((rows) => open().recordActivity(rows), log);

  const expiries = createExpiryWatch(engine);
  const probe = createCommitProbe((value) => engine.setSetting(COMMIT_PROBE_KEY, value));
  const commits = createGroupCommit<AcceptBatch, AcceptResult>({
    maxBatch: engine.maxAcceptsPerCommit,
    retryAlone: (err) => !engine.isUnavailable(err),
    async commit(batches) {
      let results: AcceptResult[];
      try {
        results = await engine.acceptBatches(batches);
      } catch (err) {
        // Only a store that cannot take writes makes readiness fail, not one bad batch.
        if (engine.isUnavailable(err)) probe.record(err);
        throw err;
      }
      probe.record(undefined);
      batches.forEach((b, i) => countAccepted(activity, b, results[i] as AcceptResult));
      if (batches.some((b) => b.events.some((e) => e.operations.some((op) => op.lifetime !== undefined)))) expiries.forget();
      if (results.some((r) => r.operationsQueued > 0)) work.emit('operations');
      if (results.some((r) => r.forwardsQueued > 0)) work.emit('forwards');
      return results;
    },
  });

  function open(): StoreEngine {
    if (closed) throw new Error(`the ${engine.engine} store at ${engine.where} is closed`);
    return engine;
  }

  async function settle(s: OperationSettlement, op: ClaimedOperation, owner: string, now: number): Promise<boolean> {
    const settled = await open().settleOperation(s, op, owner, now);
    if (!settled.touched) {
      log.warn('operation left alone: its lease is no longer held by this owner', { id: op.id, owner, settlement: s.kind });
      return false;
    }
    countSettled(activity, s, op.account, settled.sameVersion, now);
    if (!settled.sameVersion) work.emit('operations');
    return settled.sameVersion;
  }

  function wakeFor(counts: Record<WorkKind, number>): number {
    if (counts.operations > 0) work.emit('operations');
    if (counts.forwards > 0) work.emit('forwards');
    return counts.operations + counts.forwards;
  }

  function leaseLost(what: string, id: number, owner: string): void {
    log.warn(`forward left alone (${what}): its lease is no longer held by this owner`, { id, owner });
  }

  return {
    engine: engine.engine,
    migrate: async (opts) => open().migrate(opts),
    async accept(batch) {
      open();
      // A NUL in a platform's text or id must not fail the commit it shares with other webhooks.
      return commits.submit(storableBatch(batch));
    },

    async claimOperations(o) {
      if (o.limit <= 0) return [];
      // Ended lifetimes first, so their removals are among what can be claimed (CONTRACT.md, "Lifetimes").
      await expiries.expireDue(o.scope, o.now);
      return open().claimOperations(o);
    },
    completeOperation: async (op, owner, now, outcome) => settle({ kind: 'complete', outcome }, op, owner, now),
    async retryOperation(op, owner, now, retry) {
      await settle({ kind: 'retry', retry }, op, owner, now);
    },
    async deadLetterOperation(op, owner, now, dead) {
      await settle({ kind: 'dead', dead }, op, owner, now);
    },
    async renewOperationLeases(ids, owner, now, leaseMs) {
      if (ids.length > 0) await open().renewOperationLeases(ids, owner, now + leaseMs);
    },

    claimForwards: async (o) => (o.limit > 0 && o.destinations?.length !== 0 ? open().claimForwards(o) : []),
    async completeForward(fwd, owner) {
      const r = await open().completeForward(fwd, owner);
      if (!r.touched) leaseLost('complete', fwd.id, owner);
      if (r.next) work.emit('forwards');
    },
    async retryForward(fwd, owner, _now, retry) {
      if (!(await open().retryForward(fwd, owner, retry))) leaseLost('retry', fwd.id, owner);
    },
    async deadLetterForward(fwd, owner, now, dead) {
      const r = await open().deadLetterForward(fwd, owner, now, dead);
      if (!r.touched) leaseLost('dead letter', fwd.id, owner);
      if (r.next) work.emit('forwards');
    },

    async releaseLeases(owner) {
      const n = await open().releaseLeases(owner);
      // Released rows are claimable at once (by this process after a restart of its worker, or by another instance).
      if (n > 0) wakeFor({ operations: 1, forwards: 1 });
      return n;
    },
    releaseAllLeases: async () => open().releaseLeases(undefined),
    deadLetterForwardsNotTo: async (destinations, now, reasonOf) => open().deadLetterForwardsNotTo(destinations, now, reasonOf),
    nextDueAt: async (kind, scope) => open().nextDueAt(kind, scope),

    status: async (now, opts) => {
      const [{ callers, ...queues }, pauses] = await Promise.all([open().status(now, opts), open().storedPauses(Math.floor(now))]);
      return {
        ...queues,
        pauses: [...pauses].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([account, until]) => ({ account, until })),
        // Last, and only where there are roles: `status --json` grows a key, nothing moves.
        ...(callers ? { callers } : {}),
      };
    },
    listDeadLetters: async (limit = 100, after) => open().listDeadLetters(limit, after),
    retryDeadLetters: async (which, now) => wakeFor(await open().retryDeadLetters(which, now)),
    discardDeadLetters: async (which) => open().discardDeadLetters(which),
    deadOperationAccounts: async (ids) => open().deadOperationAccounts(ids),
    deadForwardDestinations: async (ids) => open().deadForwardDestinations(ids),
    requeueDeadOperations: async (account, code, now) =>
      wakeFor({ operations: await open().requeueDeadOperations(account, code, now), forwards: 0 }),
    accountlessOperations: async () => open().accountlessOperations(),
    assignAccount: async (o, now) => wakeFor({ operations: await open().assignAccount(o, now), forwards: 0 }),
    rescopePersons: async (o) => open().rescopePersons(o),

    userHistory: async (userId, limit = 100) => open().userHistory(userId, limit),
    recentEvents: async (limit) => open().recentEvents(limit),
    async activity(since) {
      await activity.flush();
      return open().activity(minuteOf(since));
    },
    prune: async (o) => open().prune(o),

    startAdminSession: async (session) => open().startAdminSession(session),
    adminSessionActive: async (idHash, tokenCheck, now) => open().adminSessionActive(idHash, tokenCheck, now),
    endAdminSession: async (idHash) => open().endAdminSession(idHash),
    pruneAdminSessions: async (now, tokenCheck) => open().pruneAdminSessions(now, tokenCheck),

    getSetting: async (key) => open().getSetting(key),
    setSetting: async (key, value) => open().setSetting(key, value),
    // The in-process mutex first: holders in this process queue here instead of each holding a connection.
    withLock: async (name, fn) => locks.run(name, () => open().withLock(name, fn)),
    onWork(listener) {
      const off = work.on(listener);
      deps.onSubscribe?.();
      return off;
    },
    // Whole milliseconds: the column is an integer on both engines.
    sharePause: async (account, until, now) => open().sharePause(account, Math.ceil(until), Math.floor(now)),
    storedPauses: async (now) => open().storedPauses(Math.floor(now)),
    keepRateEstimate: async (account, estimate) => open().keepRateEstimate(account, estimate),
    storedRateEstimates: async () => open().storedRateEstimates(),
    onPause(listener) {
      if (!deps.pauses) return () => undefined;
      const off = deps.pauses.on(listener);
      deps.onSubscribe?.();
      return off;
    },

    startSession() {
      session ??= (async () => open().startSession())();
      return session;
    },
    ping: async () => open().ping(),
    canCommit: async () => {
      open();
      await probe.check();
    },
    async close() {
      if (closed) return;
      await commits.drain();
      await activity.flush();
      closed = true;
      await engine.close();
    },
  };
}
