import type { ChatEvent, Platform } from '../../chat-event';
import { environmentChannelOf } from '../../platforms/endpoints';
import type { Provider, TagKind, TagOperation } from '../../tag-operation';
import type { AttemptOutcome, ClaimedForward, ClaimedOperation, DeadLetter, DeadLetterCode, ExpiringTag, HistoryCall, HistoryEvent, QueueCounts, StoreStatus, UserHistory } from '../store';

/**
 * Turning database rows into the store's types. Both engines select the same
 * column names; PostgreSQL returns BIGINT and SUM() as strings, SQLite as numbers,
 * so every number goes through `num`.
 */
export type Row = Record<string, unknown>;

export function num(v: unknown, column: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' || typeof v === 'bigint' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new Error(`store row: column ${column} is ${String(v)}, not a number`);
  return n;
}

export function optNum(v: unknown, column: string): number | undefined {
  return v === null || v === undefined ? undefined : num(v, column);
}

export function str(v: unknown, column: string): string {
  if (typeof v !== 'string') throw new Error(`store row: column ${column} is ${String(v)}, not text`);
  return v;
}

export function optStr(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function buf(v: unknown, column: string): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v);
  throw new Error(`store row: column ${column} is not binary`);
}

/** Drops undefined fields, so results compare equal whichever engine produced them. */
function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

export function toTagOperation(r: Row): TagOperation {
  return {
    action: str(r.action, 'action') as TagOperation['action'],
    provider: str(r.provider, 'provider') as Provider,
    kind: str(r.kind, 'kind') as TagKind,
    tagId: str(r.tag_id, 'tag_id'),
    platform: str(r.platform, 'platform') as TagOperation['platform'],
    recipient: str(r.recipient, 'recipient'),
    userId: str(r.user_id, 'user_id'),
    account: str(r.account, 'account'),
    channel: str(r.channel, 'channel'),
  };
}

export function toClaimedOperation(r: Row): ClaimedOperation {
  return {
    ...toTagOperation(r),
    id: num(r.id, 'id'),
    version: num(r.version, 'version'),
    attempts: num(r.attempts, 'attempts'),
    notFoundCount: num(r.not_found_count, 'not_found_count'),
    requestedAt: num(r.requested_at, 'requested_at'),
  };
}

/** Oldest due first, as claims promise (UPDATE … RETURNING does not keep an order). */
export function byDueThenId(a: Row, b: Row): number {
  return num(a.due_at, 'due_at') - num(b.due_at, 'due_at') || num(a.id, 'id') - num(b.id, 'id');
}

export function toClaimedForward(r: Row): ClaimedForward {
  return {
    id: num(r.id, 'id'),
    destination: str(r.destination, 'destination'),
    orderingKey: str(r.ordering_key, 'ordering_key'),
    body: buf(r.body, 'body'),
    headers: JSON.parse(str(r.headers, 'headers')) as Record<string, string>,
    receivedAt: num(r.received_at, 'received_at'),
    dueAt: num(r.due_at, 'due_at'),
    attempts: num(r.attempts, 'attempts'),
    last: compact<AttemptOutcome>({ status: optNum(r.last_status, 'last_status'), error: optStr(r.last_error), bodyExcerpt: optStr(r.last_body_excerpt) }),
  };
}

/** Rows of the dead-letter union query (see sql/views.ts). */
export function toDeadLetter(r: Row): DeadLetter {
  const isOperation = r.type === 'operation';
  const id = num(r.id, 'id');
  return compact<DeadLetter>({
    id: `${isOperation ? 'op' : 'fwd'}-${id}`,
    type: isOperation ? 'operation' : 'forward',
    reason: str(r.dead_reason, 'dead_reason'),
    code: optStr(r.dead_code) as DeadLetterCode | undefined,
    status: optNum(r.last_status, 'last_status'),
    bodyExcerpt: optStr(r.last_body_excerpt),
    at: num(r.dead_at, 'dead_at'),
    attempts: num(r.attempts, 'attempts'),
    operation: isOperation ? toTagOperation(r) : undefined,
    forward: isOperation
      ? undefined
      : {
          destination: str(r.destination, 'destination'),
          orderingKey: str(r.ordering_key, 'ordering_key'),
          receivedAt: num(r.received_at, 'received_at'),
        },
  });
}

/**
 * An operation as the history keeps it as JSON. Rows written before store step 3 name
 * the recipient `channel`; rows written before step 6 have no account (theirs was the
 * environment's, named after the provider) and no channel (the environment's of the platform).
 */
type StoredOperation = Omit<TagOperation, 'recipient' | 'account' | 'channel'> & { recipient?: string; account?: string; channel?: string };

function storedOperation(o: StoredOperation): TagOperation {
  if (o.recipient === undefined) {
    // Before step 3, `channel` held the recipient.
    const { channel: recipient, ...rest } = o;
    return storedOperation({ ...rest, recipient: recipient ?? '' });
  }
  return {
    ...o,
    recipient: o.recipient,
    account: o.account ?? o.provider,
    channel: o.channel ?? environmentChannelOf(o.platform),
  };
}

export function toHistoryEvent(r: Row): HistoryEvent {
  return compact<HistoryEvent>({
    id: num(r.id, 'id'),
    receivedAt: num(r.received_at, 'received_at'),
    eventAt: optNum(r.event_at, 'event_at'),
    platform: str(r.platform, 'platform') as ChatEvent['platform'],
    channel: optStr(r.channel) ?? environmentChannelOf(str(r.platform, 'platform') as Platform),
    recipient: str(r.recipient, 'recipient'),
    userId: str(r.user_id, 'user_id'),
    eventId: str(r.event_id, 'event_id'),
    kind: str(r.kind, 'kind') as ChatEvent['kind'],
    type: str(r.type, 'type'),
    text: optStr(r.text),
    postbackData: optStr(r.postback_data),
    matched: JSON.parse(str(r.matched, 'matched')) as string[],
    operations: (JSON.parse(str(r.operations, 'operations')) as StoredOperation[]).map(storedOperation),
  });
}

export function toHistoryCall(r: Row): HistoryCall {
  return compact<HistoryCall>({
    at: num(r.at, 'at'),
    operation: storedOperation(JSON.parse(str(r.operation, 'operation')) as StoredOperation),
    version: num(r.version, 'version'),
    outcome: str(r.outcome, 'outcome') as HistoryCall['outcome'],
    status: optNum(r.status, 'status'),
    error: optStr(r.error),
    cause: optStr(r.cause) as HistoryCall['cause'],
    rule: optStr(r.rule),
  });
}

/** Rows of operations with a lifetime running (see sql/history.ts). */
export function toExpiringTag(r: Row): ExpiringTag {
  return compact<ExpiringTag>({
    operation: toTagOperation(r),
    expiresAt: num(r.expires_at, 'expires_at'),
    rule: optStr(r.expiry_rule),
  });
}

/** Rows of the queue-count query (see sql/views.ts). */
export function toQueueCounts(r: Row | undefined, now: number): QueueCounts {
  const oldest = r ? optNum(r.oldest, 'oldest') : undefined;
  return {
    pending: r ? num(r.pending ?? 0, 'pending') : 0,
    due: r ? num(r.due ?? 0, 'due') : 0,
    leased: r ? num(r.leased ?? 0, 'leased') : 0,
    dead: r ? num(r.dead ?? 0, 'dead') : 0,
    oldestPendingAgeMs: oldest === undefined ? null : Math.max(0, now - oldest),
  };
}

/** The row of RUNNING_LIFETIMES. */
export function toRunningLifetimes(r: Row | undefined): StoreStatus['lifetimes'] {
  return { running: r ? num(r.running ?? 0, 'running') : 0, nextEndAt: (r && optNum(r.next_end, 'next_end')) ?? null };
}

/** Sums of queue-count rows (the earliest `oldest` of them), as one row. */
function addCounts(rows: readonly Row[]): Row {
  const sum = { pending: 0, due: 0, leased: 0, dead: 0, oldest: undefined as number | undefined };
  for (const r of rows) {
    sum.pending += num(r.pending ?? 0, 'pending');
    sum.due += num(r.due ?? 0, 'due');
    sum.leased += num(r.leased ?? 0, 'leased');
    sum.dead += num(r.dead ?? 0, 'dead');
    const oldest = optNum(r.oldest, 'oldest');
    if (oldest !== undefined && (sum.oldest === undefined || oldest < sum.oldest)) sum.oldest = oldest;
  }
  return sum;
}

/** Rows grouped by `key`, in the order of their keys (code-unit order, the same on both engines). */
function groupBy(rows: readonly Row[], key: (r: Row) => string): [string, Row[]][] {
  const groups = new Map<string, Row[]>();
  for (const r of rows) {
    const k = key(r);
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  return [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The rows of OPERATION_COUNTS (one per account, provider and channel) as the three views of
 * the status: the whole queue, each channel, each account.
 */
export function toOperationCounts(rows: readonly Row[], now: number): Pick<StoreStatus, 'operations' | 'channels' | 'accounts'> {
  return {
    operations: toQueueCounts(addCounts(rows), now),
    channels: groupBy(rows, (r) => str(r.channel, 'channel')).map(([channel, g]) => ({ channel, operations: toQueueCounts(addCounts(g), now) })),
    accounts: groupBy(rows, (r) => JSON.stringify([str(r.account, 'account'), str(r.provider, 'provider')])).map(([, g]) => ({
      account: str(g[0]!.account, 'account'),
      provider: str(g[0]!.provider, 'provider') as Provider,
      operations: toQueueCounts(addCounts(g), now),
    })),
  };
}

/** The user's history from its lists and the USER_TOTALS row (sql/history.ts). */
export function toUserHistory(userId: string, lists: Pick<UserHistory, 'events' | 'calls' | 'expiring'>, totals: Row | undefined): UserHistory {
  const total = { events: num(totals?.events, 'events'), calls: num(totals?.calls, 'calls'), expiring: num(totals?.expiring, 'expiring') };
  const truncated = lists.events.length < total.events || lists.calls.length < total.calls || lists.expiring.length < total.expiring;
  return { userId, ...lists, total, truncated };
}
