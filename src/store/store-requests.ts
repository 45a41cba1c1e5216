import type { ChatEvent, Platform } from '../chat-event';
import type { Provider, TagOperation } from '../tag-operation';

/**
 * What is handed to the store: a webhook's events and forwards, claimed work and
 * the outcome of its attempts — the write side of the Store interface in store.ts,
 * which re-exports all of it.
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
  /** Where those are in the batch's `events`, in order: the first occurrence of each key not seen before. */
  newEvents: number[];
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
  /** When it was due (a retry's due time is at most the end of its give-up window). */
  dueAt: number;
  attempts: number;
  /** How the latest attempt ended (nothing before the first). */
  last: AttemptOutcome;
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


/**
 * Whom the desired state of one account's users of one platform is keyed by now (see
 * `personScope`): `person` when the account names one (BotBonnie's LINE pid), else each
 * row's recipient.
 */
export interface PersonScopeRequest {
  account: string;
  provider: Provider;
  platform: Platform;
  person: string | undefined;
}

/** What re-keying did: rows given the scope of now, and rows dropped because a newer one of the same person took their place. */
export interface RescopeResult {
  rekeyed: number;
  merged: number;
}
