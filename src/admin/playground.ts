import { EVENT_KINDS, PLATFORMS, type EventKind, type Platform } from '../chat-event';
import { printedOperation, type PrintedOperation } from '../providers/describe-operation';
import { bindOperations, evaluate, hasOffset, parseInstant, type RuleEvent, type RuleSet } from '../rules';
import type { TagAction } from '../tag-operation';

/** The playground's form fields, as they arrive in the query string (all optional). */
export interface PlaygroundInput {
  text?: string;
  platform?: string;
  event?: string;
  data?: string;
  at?: string;
}

/** One operation as `autotag test --json` prints it. */
export type PlaygroundOperation = PrintedOperation;

export interface PlaygroundResult {
  event: RuleEvent;
  matched: string[];
  operations: PlaygroundOperation[];
  leftOut: { action: TagAction; reason: string }[];
}

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
export function runPlayground(ruleSet: RuleSet, input: PlaygroundInput, now: number): PlaygroundResult {
  const platform = input.platform || 'line';
  if (!(PLATFORMS as readonly string[]).includes(platform)) {
    throw new PlaygroundInputError('platform', `unknown platform ${JSON.stringify(platform)}: use ${PLATFORMS.join(', ')}`);
  }
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
  const event: RuleEvent = {
    platform: platform as Platform,
    kind: kind as EventKind,
    ...(input.text ? { text: input.text } : {}),
    ...(input.data ? { postbackData: input.data } : {}),
    timestamp,
  };
  const { matched, actions } = evaluate(ruleSet, event);
  // No real user here: bind to placeholders only to learn which actions apply on this platform.
  const { operations, skipped } = bindOperations(actions, { platform: event.platform, recipient: '', userId: '' });
  return {
    event,
    matched,
    operations: operations.map(printedOperation),
    leftOut: skipped,
  };
}
