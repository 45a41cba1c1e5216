import type { Provider, TagActionName } from '../tag-operation';
import type { MigrateOptions, MigrationReport } from './migrations/migration';
import type { CallerRoles } from './caller-roles';

/**
 * The durable store: the only place state lives. Two engines implement it
 * (`sqlite.ts`, the embedded default; `postgres.ts`, for several instances),
 * and one contract suite (`test/store/contract.ts`) runs against both.
 *
 * Times are milliseconds since the epoch and are always passed in by the caller
 * (`now`), so tests control the clock.
 */

export * from './store-requests';
import type { AcceptedEvent, ForwardRequest, AcceptBatch, AcceptResult, ClaimedOperation, ClaimedForward, AttemptOutcome, RetryRequest, DeadLetterCode, DeadLetterRequest, PersonScopeRequest, RescopeResult } from './store-requests';
export * from './store-views';
import type { AccountScope, ActivityCount, DeadLetter, DeadLetterCursor, HistoryEvent, StatusOptions, StoreStatus, StoredRateEstimate, UserHistory } from './store-views';

export type WorkKind = 'operations' | 'forwards';

/** What `Store.onPause` hears: a pause another instance shared, or that some may have gone unheard. */
export type PauseNews = { kind: 'shared'; account: string; ms: number } | { kind: 'unheard' };

/** A logged-in /admin browser (CONTRACT.md: logging out ends that session on the server). */
export interface AdminSession {
  /** SHA-256 of the session id the cookie carries; the id itself is never stored. */
  idHash: string;
  /** Derived from ADMIN_TOKEN: a session started under another token is not valid. */
  tokenCheck: string;
  createdAt: number;
  expiresAt: number;
}

/** What every claim names. */
export interface ClaimOptions {
  limit: number;
  /** The lease token the rows are leased under (settles and renewals must name it). */
  owner: string;
  now: number;
  /** How long the lease lasts unless renewed. */
  leaseMs: number;
  /**
   * How long after `now` the calls made under this lease can still run: the worker
   * aborts them then. With PostgreSQL, when the instance holding the lease is gone,
   * the rows come back this long after the claim (plus a margin, see
   * postgres/liveness.ts) instead of after `leaseMs`. Without it only `leaseMs` counts.
   */
  callMs?: number;
}

/**
 * This instance's standing among the instances that share the store. With
 * PostgreSQL it is a database session of its own holding an advisory lock on the
 * instance's id: while it is held, claims name this instance as the holder of their
 * leases, and other instances leave those leases alone; once it is lost, the leases
 * are taken back at their call deadlines, so calls must stop. SQLite: always held.
 */
export interface InstanceSession {
  /** Whether the session is held now; calls may start only then. */
  readonly live: boolean;
  /** Aborted (with a SessionLostError) when the session held now is lost; a later session has a signal of its own. */
  readonly signal: AbortSignal;
  /** Called with false when the session is lost, with true when a new one is held. Returns an unsubscribe function. */
  onChange(listener: (live: boolean) => void): () => void;
  /** PostgreSQL: which provider accounts this instance is the only caller of (PROVIDER_CALLERS=one). */
  readonly callers?: CallerRoles;
}

/** The reason an InstanceSession's signal is aborted with. */
export class SessionLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SessionLostError';
  }
}

export interface Store {
  readonly engine: 'sqlite' | 'postgres';

  /** Creates or upgrades the schema (versioned migrations; PostgreSQL under an advisory lock). */
  migrate(opts?: MigrateOptions): Promise<MigrationReport>;

  /**
   * One transaction: remembers event ids (duplicates are skipped), records history,
   * upserts the desired state of every operation (bumping its version), and
   * enqueues the forwards. Resolves only after the commit is durable.
   * Calls that arrive together may share one commit.
   */
  accept(batch: AcceptBatch): Promise<AcceptResult>;

  // ---- tag operations (desired-state rows) ----

  /**
   * First turns the adds of the accounts of `scope` whose lifetime has ended (`expires_at <= now`)
   * into removals — an event of their own at that time: version+1, due then, their give-up
   * window from then, even while leased — then leases up to `limit` rows of those accounts
   * that are pending and due (`due_at <= now`) and not leased (or whose lease expired),
   * oldest due first. PostgreSQL uses FOR UPDATE SKIP LOCKED so instances never claim
   * (or expire) the same row.
   */
  claimOperations(opts: ClaimOptions & { scope: AccountScope }): Promise<ClaimedOperation[]>;

  /**
   * The call for `version` succeeded. Marks the row done and releases it; when the
   * version moved meanwhile, releases it as pending and due now (the newer action
   * still has to be applied) and resolves false.
   */
  completeOperation(op: ClaimedOperation, owner: string, now: number, outcome: AttemptOutcome): Promise<boolean>;

  /** Releases the row to be tried again at `dueAt` (due now when the version moved). */
  retryOperation(op: ClaimedOperation, owner: string, now: number, retry: RetryRequest): Promise<void>;

  /** Makes the row a dead letter (unless the version moved: then it is due now, for the newer action). */
  deadLetterOperation(op: ClaimedOperation, owner: string, now: number, dead: DeadLetterRequest): Promise<void>;

  /** Extends the lease of rows this owner still holds. */
  renewOperationLeases(ids: number[], owner: string, now: number, leaseMs: number): Promise<void>;

  // ---- forwards ----

  /**
   * Leases up to `limit` forwards that are due, taking only the oldest unfinished
   * forward of each (destination, orderingKey) — so one key's forwards arrive in order
   * and a failing one holds the later ones. `destinations` limits the claim.
   */
  claimForwards(opts: ClaimOptions & { destinations?: string[] }): Promise<ClaimedForward[]>;
  completeForward(fwd: ClaimedForward, owner: string, now: number, outcome: AttemptOutcome): Promise<void>;
  retryForward(fwd: ClaimedForward, owner: string, now: number, retry: RetryRequest): Promise<void>;
  deadLetterForward(fwd: ClaimedForward, owner: string, now: number, dead: DeadLetterRequest): Promise<void>;

  // ---- leases ----

  /**
   * Keeps as dead letters, with `reasonOf(destination)`, the pending forwards no one holds
   * whose destination is not among `destinations` (the configuration no longer forwards
   * there: no loop would ever send them). Returns how many, by destination.
   */
  deadLetterForwardsNotTo(destinations: readonly string[], now: number, reasonOf: (destination: string) => string): Promise<Map<string, number>>;
  /** Releases every lease held by `owner` (graceful shutdown). */
  releaseLeases(owner: string): Promise<number>;
  /** Releases every lease of every owner (SQLite only, at start: one instance, so they are all stale). */
  releaseAllLeases(): Promise<number>;

  /**
   * Earliest `due_at` among pending, unleased work (or lease expiry), and for operations the
   * earliest end of a lifetime, so the worker knows when to wake.
   * `scope` narrows it to some accounts' operations (a name alone: that account's), or one
   * destination's forwards: another account's or destination's backlog is not this loop's
   * work (waking for it would spin).
   */
  nextDueAt(kind: WorkKind, scope?: AccountScope | string): Promise<number | null>;

  // ---- operator views ----

  /** The queue state; with `callerAccounts` (PostgreSQL) also who holds the caller roles (StoreStatus.callers). */
  status(now: number, opts?: StatusOptions): Promise<StoreStatus>;
  /**
   * Newest first; `limit` defaults to 100. `after`: the last letter of the page before, to
   * read the whole list page by page (each page starts where the one before ended, whatever
   * was added or queued again meanwhile).
   */
  listDeadLetters(limit?: number, after?: DeadLetterCursor): Promise<DeadLetter[]>;
  /** Queues dead letters again (due now, attempts reset). `all` or a list of `op-…`/`fwd-…` ids. Returns how many. */
  retryDeadLetters(which: 'all' | string[], now: number): Promise<number>;
  /**
   * Removes dead letters for good (an operator's decision: `autotag dead-letters discard`), with
   * a forward's stored body once no forward holds it. `all` or a list of ids. Returns how many.
   */
  discardDeadLetters(which: 'all' | string[]): Promise<number>;
  /**
   * The account of each of `ids` (as given, `op-…` or `fwd-…`) that is a dead tag operation:
   * read before queueing them again, to say which cannot be called. Forwards and ids that are
   * not dead letters are not in it.
   */
  deadOperationAccounts(ids: string[]): Promise<Map<string, string>>;
  /**
   * Dead forwards counted by destination: every one (`all`), or those among `ids` (as given,
   * `op-…` or `fwd-…`; operations and ids that are not dead forwards are not counted). Read
   * before queueing them again, to say which go to a destination no longer configured.
   */
  deadForwardDestinations(ids: readonly string[] | 'all'): Promise<Map<string, number>>;
  /** Queues again the dead operations of `account` kept with `code`. */
  requeueDeadOperations(account: string, code: DeadLetterCode, now: number): Promise<number>;
  /** The (provider, channel) pairs of dead operations kept for want of an account (NO_ACCOUNT). */
  accountlessOperations(): Promise<{ provider: Provider; channel: string }[]>;
  /**
   * Gives the dead NO_ACCOUNT operations of `provider` from `channel` the account that now
   * exists for them and queues them again — except where that account already has a row
   * for the same tag and user (the newer desired state): those stay as they are.
   */
  assignAccount(o: { provider: Provider; channel: string; account: string }, now: number): Promise<number>;
  /**
   * Brings the account's rows of `provider` and `platform` under the person scope the
   * configuration gives now (CONTRACT "Order"; at start, before any claim): rows stored
   * under another (an account's LINE pid set, changed or removed since they were written)
   * take it; where that gives one person several rows, the one set by the latest event
   * stays (then the last updated, then the newest row) and the others are deleted, as
   * store step 9 did. PostgreSQL: under an advisory lock, so instances starting together
   * do it once.
   */
  rescopePersons(o: PersonScopeRequest): Promise<RescopeResult>;

  // ---- history ----

  /**
   * The user's latest `limit` (default 100) events and latest `limit` calls, each list oldest
   * first (a timeline), the soonest `limit` running lifetimes, and how many of each there are in all.
   */
  userHistory(userId: string, limit?: number): Promise<UserHistory>;
  /** Events of every user, newest first. */
  recentEvents(limit: number): Promise<HistoryEvent[]>;
  /**
   * Per-minute counts (see ACTIVITY_SERIES) of the minutes from the one `since` falls in,
   * oldest first; what this process counted before the call is written first.
   */
  activity(since: number): Promise<ActivityCount[]>;
  /** Deletes history (and per-minute activity) older than `before`, and event ids remembered for dedup older than `seenBefore`. */
  prune(opts: { historyBefore: number; seenBefore: number }): Promise<{ history: number; seen: number }>;

  // ---- /admin sessions ----

  startAdminSession(session: AdminSession): Promise<void>;
  /** Whether the session exists, was started under `tokenCheck` and has not expired at `now`. */
  adminSessionActive(idHash: string, tokenCheck: string, now: number): Promise<boolean>;
  /** Ends one session (logout); false when there was none. */
  endAdminSession(idHash: string): Promise<boolean>;
  /** Deletes the sessions expired at `now` and those of another token; returns how many. */
  pruneAdminSessions(now: number, tokenCheck: string): Promise<number>;

  // ---- settings and coordination ----

  getSetting(key: string): Promise<string | undefined>;
  setSetting(key: string, value: string): Promise<void>;
  /**
   * Runs `fn` while holding a named lock that no other holder (in this process, or —
   * with PostgreSQL — in any instance) holds at the same time.
   */
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T>;

  /**
   * Calls `listener` whenever new work may be due: after `accept`, after a dead-letter
   * retry, and (PostgreSQL) when another instance did either — via LISTEN/NOTIFY.
   * Returns an unsubscribe function.
   */
  onWork(listener: (kind: WorkKind) => void): () => void;

  /**
   * Calls to provider account `account` are paused until `until` (CONTRACT.md "Retries": a
   * `Retry-After` pauses calls to that provider account): kept in the store, so that an instance
   * that starts during the pause — or this one, restarted after a crash or a deploy — waits too
   * (`storedPauses`), and with PostgreSQL told to the instances running now by NOTIFY (as
   * `until - now` ms). A later end already kept stays; pauses that ended by `now` are removed.
   * Best effort for the caller: an instance that misses it meets the 429 itself.
   */
  sharePause(account: string, until: number, now: number): Promise<void>;

  /**
   * The pauses kept by `sharePause` that end after `now`, by account. An end is an epoch time by
   * the clock of the instance that met the `Retry-After`; the reader compares it with its own.
   */
  storedPauses(now: number): Promise<Map<string, number>>;

  /**
   * Calls `listener` when another instance shares a pause (`shared`), and — PostgreSQL — when
   * the LISTEN connection (re)connects (`unheard`: pauses shared while it was down were not
   * heard; read them with `storedPauses`). Returns an unsubscribe function.
   */
  onPause(listener: (news: PauseNews) => void): () => void;

  /**
   * Keeps `account`'s rate limit as its rate gate estimated it (at a run of 429s), so that a
   * gate started later — this service restarted, or the instance that takes the account's
   * caller role over — starts from it (`storedRateEstimates`). One per account: an estimate
   * made later (`at`, by the clock of the instance that made it) replaces it, an earlier one
   * does not. Best effort for the caller: a gate without it learns the limit again.
   */
  keepRateEstimate(account: string, estimate: StoredRateEstimate): Promise<void>;

  /** The estimates kept by `keepRateEstimate`, by account, however old (the reader decides what is recent enough). */
  storedRateEstimates(): Promise<Map<string, StoredRateEstimate>>;

  /**
   * Starts holding this instance's session (see InstanceSession) and keeps holding one —
   * after a loss, under a new instance id — until `close`. Serving processes call it
   * before claiming; commands that only read never do. Calling it again returns the same session.
   */
  startSession(): Promise<InstanceSession>;

  /** Resolves when the store answers (a trivial query); rejects with the reason otherwise. */
  ping(): Promise<void>;
  /**
   * Resolves when the store can commit now: the last accept committed, or a small write
   * probe did, within the last 2 s (see shared/commit-probe.ts); rejects with the reason
   * otherwise (disk full, read-only, unreachable).
   */
  canCommit(): Promise<void>;
  close(): Promise<void>;
}

/** Thrown when the database cannot be reached; the HTTP layer answers 503 so the platform retries. */
export class StoreUnavailableError extends Error {
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}

export type { CallerRoles, TagActionName };
