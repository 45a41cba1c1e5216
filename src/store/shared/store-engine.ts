import type { Provider } from '../../tag-operation';
import type { MigrateOptions, MigrationReport } from '../migrations/migration';
import type {
  AccountScope,
  ActivityCount,
  AcceptBatch,
  AdminSession,
  AcceptResult,
  ClaimOptions,
  ClaimedForward,
  ClaimedOperation,
  DeadLetter,
  DeadLetterCode,
  DeadLetterCursor,
  DeadLetterRequest,
  HistoryEvent,
  InstanceSession,
  PersonScopeRequest,
  RescopeResult,
  RetryRequest,
  StatusOptions,
  StoreStatus,
  StoredRateEstimate,
  UserHistory,
  WorkKind,
} from '../store';
import type { OperationSettlement, SettledOperation } from './settle';

export interface ForwardSettled {
  /** The forward was still leased by this owner (otherwise nothing changed). */
  touched: boolean;
  /** A later forward of the same key now leads its queue. */
  next: boolean;
}

/**
 * What an engine does against its database; `composeStore` turns it into a Store
 * (group commit, wake-ups, lease-lost warnings). Engines that share a database with
 * other instances tell those instances about new work themselves (PostgreSQL NOTIFY
 * in the same transaction); the in-process wake-up is done by `composeStore`.
 */
export interface StoreEngine {
  readonly engine: 'sqlite' | 'postgres';
  /** Where the data lives, for messages (never with a password). */
  readonly where: string;
  /** Webhooks per shared commit. */
  readonly maxAcceptsPerCommit: number;
  migrate(opts?: MigrateOptions): Promise<MigrationReport>;
  /** One transaction for all batches, applied in order; one result per batch. */
  acceptBatches(batches: AcceptBatch[]): Promise<AcceptResult[]>;
  /** True for errors that mean the database is unreachable (retrying items alone would not help). */
  isUnavailable(err: unknown): boolean;

  /** Turns the adds of the accounts of `scope` whose lifetime ended by `now` into removals (see Store.claimOperations); returns how many. */
  expireOperations(scope: AccountScope, now: number): Promise<number>;
  /** When the next lifetime of the accounts of `scope` ends (the earliest expires_at), or null when none runs. */
  nextExpiryAt(scope: AccountScope): Promise<number | null>;
  claimOperations(o: ClaimOptions & { scope: AccountScope }): Promise<ClaimedOperation[]>;
  settleOperation(s: OperationSettlement, op: ClaimedOperation, owner: string, now: number): Promise<SettledOperation>;
  renewOperationLeases(ids: number[], owner: string, until: number): Promise<void>;

  claimForwards(o: ClaimOptions & { destinations?: string[] }): Promise<ClaimedForward[]>;
  completeForward(fwd: ClaimedForward, owner: string): Promise<ForwardSettled>;
  /** Returns whether the forward was still leased by this owner. */
  retryForward(fwd: ClaimedForward, owner: string, retry: RetryRequest): Promise<boolean>;
  deadLetterForward(fwd: ClaimedForward, owner: string, now: number, dead: DeadLetterRequest): Promise<ForwardSettled>;

  /** `undefined`: every owner's leases. */
  releaseLeases(owner: string | undefined): Promise<number>;
  nextDueAt(kind: WorkKind, scope?: AccountScope | string): Promise<number | null>;
  /** Store.status but the pauses (storedPauses). */
  status(now: number, opts?: StatusOptions): Promise<Omit<StoreStatus, 'pauses'>>;
  listDeadLetters(limit: number, after?: DeadLetterCursor): Promise<DeadLetter[]>;
  retryDeadLetters(which: 'all' | string[], now: number): Promise<Record<WorkKind, number>>;
  discardDeadLetters(which: 'all' | string[]): Promise<number>;
  deadOperationAccounts(ids: string[]): Promise<Map<string, string>>;
  deadForwardDestinations(ids: readonly string[] | 'all'): Promise<Map<string, number>>;
  deadLetterForwardsNotTo(destinations: readonly string[], now: number, reasonOf: (destination: string) => string): Promise<Map<string, number>>;
  requeueDeadOperations(account: string, code: DeadLetterCode, now: number): Promise<number>;
  accountlessOperations(): Promise<{ provider: Provider; channel: string }[]>;
  assignAccount(o: { provider: Provider; channel: string; account: string }, now: number): Promise<number>;
  rescopePersons(o: PersonScopeRequest): Promise<RescopeResult>;

  userHistory(userId: string, limit: number): Promise<UserHistory>;
  recentEvents(limit: number): Promise<HistoryEvent[]>;
  prune(o: { historyBefore: number; seenBefore: number }): Promise<{ history: number; seen: number }>;
  /** Adds the counts to the per-minute activity, in ONE statement (several instances may add to the same minute). */
  recordActivity(rows: ActivityCount[]): Promise<void>;
  /** The per-minute activity from `since` (a minute start) on, oldest first. */
  activity(since: number): Promise<ActivityCount[]>;
  startAdminSession(session: AdminSession): Promise<void>;
  adminSessionActive(idHash: string, tokenCheck: string, now: number): Promise<boolean>;
  endAdminSession(idHash: string): Promise<boolean>;
  pruneAdminSessions(now: number, tokenCheck: string): Promise<number>;
  getSetting(key: string): Promise<string | undefined>;
  setSetting(key: string, value: string): Promise<void>;
  /** Excludes other instances too, where there can be any; the in-process mutex is added by `composeStore`. */
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** See Store.startSession; composeStore makes repeated calls share one session. */
  startSession(): Promise<InstanceSession>;
  ping(): Promise<void>;
  /** See Store.sharePause: kept by every engine (a restart comes after it), told to other instances where there can be any. */
  sharePause(account: string, until: number, now: number): Promise<void>;
  storedPauses(now: number): Promise<Map<string, number>>;
  keepRateEstimate(account: string, estimate: StoredRateEstimate): Promise<void>;
  storedRateEstimates(): Promise<Map<string, StoredRateEstimate>>;
  close(): Promise<void>;
}
