import type { ChatEvent } from '../chat-event';
import type { Provider, TagOperation } from '../tag-operation';
import type { DeadLetterCode } from './store-requests';

/**
 * What the store reports (queue state, dead letters, history, activity): the read
 * side of the Store interface in store.ts, which re-exports all of it.
 */

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
  /**
   * Tags whose lifetime (`for:`) is running: each is removed at its end, when its removal
   * becomes a pending operation (one whose end has passed already counts as pending).
   */
  lifetimes: { running: number; nextEndAt: number | null };
  /**
   * Provider accounts whose calls a `Retry-After` paused (Store.sharePause) and until when
   * (epoch ms, by the clock of the instance that met it), by name; none once the pause ended.
   */
  pauses: { account: string; until: number }[];
  /**
   * PostgreSQL, when asked for (StatusOptions.callerAccounts): the provider accounts whose caller
   * role an instance holds, with that instance, and those with pending operations whose role no
   * instance holds, by name. Absent with SQLite (one process makes every call) and when not asked for.
   */
  callers?: CallerRole[];
}

/** What Store.status reads besides the queue. */
export interface StatusOptions {
  /**
   * PostgreSQL: read who holds the caller role (PROVIDER_CALLERS=one) of these accounts — the
   * configured ones — and of every account that has operations (StoreStatus.callers).
   */
  callerAccounts?: readonly string[];
}

/** A provider account's caller role (see CallerRoles): who holds it, read from the database's locks. */
export interface CallerRole {
  account: string;
  /** The instance whose database session holds the role; null when none does. */
  holder: CallerHolder | null;
  /** The account's pending operations (as in `accounts`): with no holder, none of them is called. */
  pending: number;
}

/** The instance holding a caller role, as PostgreSQL shows its session (pg_locks, pg_stat_activity). */
export interface CallerHolder {
  /**
   * The instance id: listed in `instances`, named by its claims as their lease holder, logged at
   * `PostgreSQL instance session held`. Null when the session holding the lock holds no listed instance's lock.
   */
  instance: string | null;
  /** When that instance's session was taken (epoch ms); null with `instance`. */
  since: number | null;
  /** The session's application_name: `autotag HOST pid PID` (the host and process of the instance); null when it has none. */
  name: string | null;
  /** The session's client address as the database server sees it; null over a Unix socket, or for another role's session without pg_read_all_stats. */
  clientAddress: string | null;
  /** The server process of that session (pg_stat_activity.pid; what pg_terminate_backend takes). */
  backendPid: number;
  /** Set when the status was read by the instance that holds the role (its /admin page). */
  thisInstance?: true;
}

/** A provider account's rate limit as its rate gate last estimated it (Store.keepRateEstimate). */
export interface StoredRateEstimate {
  /** Requests per second. */
  rate: number;
  /** The fitted token bucket size, when the estimate rests on a fit (rate-estimate.ts). */
  burst?: number;
  /** Rests on long evidence (a fit, a long saturated stretch), not on a few calls: only such an estimate is started from. */
  confident: boolean;
  /** The account's 429s paused it (`Retry-After`) while the estimate rested on long evidence: a gate started from it paces a little below it. */
  pausing: boolean;
  /** What it came from (RateEstimate.source), for people. */
  source: string;
  /** When it was made (epoch ms, by the clock of the instance that made it). */
  at: number;
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

/** Where a page of dead letters starts: after this letter (Store.listDeadLetters). */
export type DeadLetterCursor = Pick<DeadLetter, 'id' | 'type' | 'at'>;

export interface HistoryEvent {
  id: number;
  receivedAt: number;
  /**
   * The platform's own time of the event (what Order and lifetimes go by; a time in the
   * future counts as the receipt). Absent for events stored by releases before store step 10.
   */
  eventAt?: number;
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
  /** How many of each the store holds for the user: the lists hold the latest `limit` of them (expiring: the soonest). */
  total: { events: number; calls: number; expiring: number };
  /** Some were left out: a list holds fewer than its total. */
  truncated: boolean;
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

