import { EVENT_KINDS, type EventKind } from '../chat-event';
import { printedOperation, type PrintedOperation } from '../providers/describe-operation';
import { bindOperations, dryRunInputs, dryRunWhere, ENVIRONMENT_CATALOGUE, evaluate, hasOffset, parseInstant, type AccountOf, type RuleCatalogue, type RuleEvent, type RuleSet } from '../rules';
import type { TagAction } from '../tag-operation';

/** The playground's form fields, as they arrive in the query string (all optional). */
export interface PlaygroundInput {
  text?: string;
  platform?: string;
  channel?: string;
  event?: string;
  data?: string;
  at?: string;
}

/** One operation as `autotag test --json` prints it. */
export type PlaygroundOperation = PrintedOperation;

export interface PlaygroundResult {
  event: RuleEvent & { channel: string };
  matched: string[];
  operations: PlaygroundOperation[];
  /** The account each of `operations` would go to on this channel (NO_ACCOUNT: none). */
  accounts: string[];
  leftOut: { action: TagAction; reason: string }[];
  /** Inputs the event's kind cannot carry, left out (a follow event's text). */
  notes: string[];
}

/** The channels and accounts the playground knows; without them, the environment's alone. */
export interface PlaygroundChannels {
  catalogue: RuleCatalogue;
  accountOf: (action: TagAction, channel: string) => string;
}

const ENVIRONMENT_ONLY: PlaygroundChannels = { catalogue: ENVIRONMENT_CATALOGUE, accountOf: (a) => a.account ?? a.provider };

export class PlaygroundInputError extends Error {
  constructor(readonly field: keyof PlaygroundInput, message: string) {
    super(message);
    this.name = 'PlaygroundInputError';
  }
}

/**
 * What `autotag test` answers for the same event: the matched rule ids and the
 * tag operations, by the evaluator the webhooks use. An empty text or data field
 * means "none" (a form always sends its fields).
 */
export function runPlayground(ruleSet: RuleSet, input: PlaygroundInput, now: number, channels: PlaygroundChannels = ENVIRONMENT_ONLY): PlaygroundResult {
  const where = dryRunWhere(channels.catalogue, input.platform || undefined, input.channel || undefined);
  if ('problem' in where) throw new PlaygroundInputError(where.field, where.problem);
  const kind = input.event || 'message';
  if (!(EVENT_KINDS as readonly string[]).includes(kind)) {
    throw new PlaygroundInputError('event', `unknown event ${JSON.stringify(kind)}: use ${EVENT_KINDS.join(', ')}`);
  }
  let timestamp = now;
  const at = input.at?.trim();
  if (at) {
    const parsed = hasOffset(at) ? parseInstant(at, undefined) : undefined;
    if (parsed === undefined) {
      throw new PlaygroundInputError('at', `time ${JSON.stringify(at)} is not an ISO 8601 time with an offset: write e.g. 2026-12-05T10:00:00+08:00 or 2026-12-05T02:00:00Z`);
    }
    timestamp = parsed;
  }
  const { leftOut: notes, ...inputs } = dryRunInputs(kind as EventKind, input.text || undefined, input.data || undefined);
  const event = {
    platform: where.platform,
    channel: where.channel,
    kind: kind as EventKind,
    ...inputs,
    timestamp,
  };
  const { matched, actions } = evaluate(ruleSet, event);
  // No real user here: bind to placeholders only to learn which actions apply, and in which accounts.
  const accountOf: AccountOf = (a) => channels.accountOf(a, where.channel);
  const bound = bindOperations(actions, { platform: event.platform, channel: where.channel, recipient: '', userId: '' }, accountOf);
  const { operations, skipped } = bound;
  return {
    event,
    matched,
    // As `autotag test --json` prints them: an account only where the rule names one.
    operations: bound.actions.map((a) => printedOperation(a)),
    accounts: operations.map((o) => o.account),
    leftOut: skipped,
    notes,
  };
}
