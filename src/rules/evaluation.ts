import type { TagAction } from '../tag-operation';

/** What evaluating one event against a rule set gives (see `evaluate`). */
export interface Evaluation {
  /** Ids of the rules that matched, in evaluation order. */
  matched: string[];
  /**
   * What the matched rules ask for, one action per (provider, kind, tag): when rules
   * ask to add and to remove the same tag, the rule evaluated first wins.
   */
  actions: TagAction[];
}
