import type { ChatEvent } from '../chat-event';
import type { Provider, TagOperation, TagActionName } from '../tag-operation';

/**
 * The durable store: the only place state lives. Two engines implement it
 * (`sqlite.ts`, the embedded default; `postgres.ts`, for several instances),
 * and one contract suite (`test/store/contract.ts`) runs against both.
 *
 * Times are milliseconds since the epoch and are always passed in by the caller
 * (`now`), so tests control the clock.
 */

/** One platform event as the request path hands it to the store. */
export interface AcceptedEvent {
  /** `${channel}/${platform}:${eventId}` (webhook/process-events.ts) — a key seen before makes the event a duplicate. */
  dedupKey: string;
  event: ChatEvent;
  /** Rule ids that matched, in evaluation order. */
  matched: string[];
  /**
   * What the rules asked for (already merged: one per key, first rule wins). Each is
   * applied as of `event.timestamp` (CONTRACT "Order" and "Lifetimes"): a row set by a
   * later event stays as it is.
   */
  operations: TagOperation[];
}

/** One webhook to pass on to one downstream URL. */
export interface ForwardRequest {
  destination: string;
  /** The user of the webhook's first event, else its recipient: forwards with one key arrive in order. */
  orderingKey: string;
  /** The raw body exactly as received. */
  body: Buffer;
  /** `content-type` and the platform's signature header, exactly as received (lower-case names). */
  headers: Record<string, string>;
}

export interface AcceptBatch {
  /** When the webhook arrived. */
  now: number;
  events: AcceptedEvent[];
  /** Stored whether or not the events are duplicates (a redelivered webhook is forwarded again). */
  forwards: ForwardRequest[];
  /** Keep message text in the history (HISTORY_STORE_TEXT=1). */
  storeText: boolean;
}

export interface AcceptResult {
  /** Events that were new (not seen before). */
  accepted: number;
  /** Events skipped because their dedup key was already seen. */
  duplicates: number;
  /**
   * Desired-state rows created or changed: a new version to apply, or a lifetime moved
   * (a row already in the asked-for state is not counted, nor one set by a later event).
   */
  operationsQueued: number;
  forwardsQueued: number;
}

/** A desired-state row the worker holds a lease on. */
export interface ClaimedOperation extends TagOperation {
  id: number;
  /** Bumped by every accepted operation for this key; completion only counts for the version applied. */
  version: number;
  /** Attempts made for this version so far (0 on the first claim). */
  attempts: number;
  /** MantaGo 404s seen for this version so far. */
  notFoundCount: number;
  /** When this version was asked for: the give-up window runs from here (a dead letter queued again counts as asked for then). */
  requestedAt: number;
}

export interface ClaimedForward {
  id: number;
  destination: string;
  orderingKey: string;
  body: Buffer;
  headers: Record<string, string>;
  /** When the webhook arrived — or when an operator queued the dead letter again: the give-up window runs from here. */
  receivedAt: number;
  attempts: number;
}

/** How an attempt ended, kept for the per-user history and dead-letter listing. */
export interface AttemptOutcome {
  /** HTTP status, or undefined for a network error / timeout. */
  status?: number;
  /** A short, secret-free description (error message, provider code). */
  error?: string;
  /** The first few hundred characters of the response body. */
  bodyExcerpt?: string;
}

export interface RetryRequest extends AttemptOutcome {
  /** When to try again. */
  dueAt: number;
  /** This attempt was a MantaGo 404 (counted against RETRY_404_TIMES). */
  notFound?: boolean;
}

/**
 * Why a dead letter is kept, where the service acts on it: stored as a code, never
 * found again by matching its reason text. `account_missing`: no account could take
 * it (none resolved, or its account is not configured); queued again at the first
 * start where its account exists. `provider_not_configured` is what earlier releases
 * stored for the environment's account without a token; it is treated alike.
 */
export const DEAD_LETTER_CODES = ['provider_not_configured', 'account_missing'] as const;
export type DeadLetterCode = (typeof DEAD_LETTER_CODES)[number];

export interface DeadLetterRequest extends AttemptOutcome {
  /** Why it will not be retried, for people, e.g. `400 from mantago: tag not found`, `MANTAGO_TOKEN is not set`. */
  reason: string;
  /** Operations only: set when the service will act on why (see DEAD_LETTER_CODES). */
  code?: DeadLetterCode;
}

export interface QueueCounts {
  /** Waiting (due now or later), not leased, not dead. */
  pending: number;
  /** Pending and due now. */
  due: number;
  /** Held by a worker right now. */
  leased: number;
  dead: number;
  /** Age of the oldest pending or leased item, or null when there is none. */
  oldestPendingAgeMs: number | null;
}

export interface StoreStatus {
  operations: QueueCounts;
  forwards: QueueCounts;
  /** Tag operations by the channel of the event that asked for them, by channel id. */
  channels: { channel: string; operations: QueueCounts }[];
  /** Tag operations by account (NO_ACCOUNT: those no account could take), by name. */
  accounts: { account: string; provider: Provider; operations: QueueCounts }[];
}

/**
 * Whose operations a worker claims: one account's, or — for the worker that keeps
 * operations no configured account can take as dead letters — every account's but these.
 */
export type AccountScope = { readonly account: string } | { readonly accountsOtherThan: readonly string[] };

export interface DeadLetter {
  /** `op-<n>` for tag operations, `fwd-<n>` for forwards: what `dead-letters retry` takes. */
  id: string;
  type: 'operation' | 'forward';
  reason: string;
  code?: DeadLetterCode;
  status?: number;
  bodyExcerpt?: string;
  /** When it became a dead letter. */
  at: number;
  attempts: number;
  operation?: TagOperation;
  forward?: { destination: string; orderingKey: string; receivedAt: number };
}

export interface HistoryEvent {
  id: number;
  receivedAt: number;
  platform: ChatEvent['platform'];
  /** The channel it came in on (see ChatEvent.channel). */
  channel: string;
  /** Who the user wrote to (see ChatEvent.recipient). */
  recipient: string;
  userId: string;
  eventId: string;
  kind: ChatEvent['kind'];
  type: string;
  /** Only when HISTORY_STORE_TEXT=1 was set at the time. */
  text?: string;
  postbackData?: string;
  matched: string[];
  operations: TagOperation[];
}

/**
 * Entries of the history that are not calls, recorded by the store:
 * - `older_event`: an event older (by event time) than the one that set the tag changed nothing (`superseded`);
 * - `arrived_expired`: an add whose lifetime had run out when it arrived changed nothing (`expired`);
 * - `lifetime_ended`: a tag's lifetime ended and its removal was queued (`expired`; the removal's calls follow).
 */
export const HISTORY_CAUSES = ['older_event', 'arrived_expired', 'lifetime_ended'] as const;
export type HistoryCause = (typeof HISTORY_CAUSES)[number];

/** One tag call (or a decision not to call) for a user, as recorded by the worker or the store. */
export interface HistoryCall {
  at: number;
  operation: TagOperation;
  /** The row's version the call was for; 0 for an event that changed nothing (no version was asked for). */
  version: number;
  outcome: 'applied' | 'retry' | 'dead' | 'superseded' | 'expired';
  status?: number;
  error?: string;
  /** Set when no call was made: why (see HISTORY_CAUSES). */
  cause?: HistoryCause;
  /** For `expired`: the rule whose `for:` set the lifetime. */
  rule?: string;
}

/** A tag of the user with a lifetime running: when it will be removed. */
export interface ExpiringTag {
  operation: TagOperation;
  expiresAt: number;
  /** The rule whose `for:` set it. */
  rule?: string;
}

export interface UserHistory {
  userId: string;
  events: HistoryEvent[];
  calls: HistoryCall[];
  /** Soonest first. */
  expiring: ExpiringTag[];
}

/**
 * What the /admin charts count per minute, stored as these codes: `webhook` (key: the
 * platform of the webhook's events), `rule` (key: the rule id; matches of new events only),
 * `call` (key: `applied`, `retry` or `dead`; a failed call whose row a newer event changed
 * meanwhile counts as `retry`, as it is followed by another call), `throttled` (key: the
 * account that answered 429).
 */
export const ACTIVITY_SERIES = ['webhook', 'rule', 'call', 'throttled'] as const;
export type ActivitySeries = (typeof ACTIVITY_SERIES)[number];

export interface ActivityCount {
  /** The start of the minute, ms since the epoch. */
  minute: number;
  series: ActivitySeries;
  key: string;
  count: number;
}

export type WorkKind = 'operations' | 'forwards';

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
  migrate(): Promise<void>;

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

  status(now: number): Promise<StoreStatus>;
  /** Newest first; `limit` defaults to 100. */
  listDeadLetters(limit?: number): Promise<DeadLetter[]>;
  /** Queues dead letters again (due now, attempts reset). `all` or a list of `op-…`/`fwd-…` ids. Returns how many. */
  retryDeadLetters(which: 'all' | string[], now: number): Promise<number>;
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

  // ---- history ----

  /** The user's latest `limit` (default 100) events and latest `limit` calls, each list oldest first (a timeline). */
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

export type { TagActionName };
