import type { TagAction } from '../providers/tag-operation';
import type { RuleEvent } from './match-context';
import type { RuleSet } from './rule-set';

export interface Evaluation {
  /** Ids of the rules that matched, in evaluation order. */
  matched: string[];
  /**
   * What the matched rules ask for, one action per (provider, kind, tag): when rules
   * ask to add and to remove the same tag, the rule evaluated first wins.
   */
  actions: TagAction[];
}

/** Which rules match `event` and what they ask for. Pure: the same inputs give the same answer. */
export function evaluate(ruleSet: RuleSet, event: RuleEvent): Evaluation {
  return ruleSet.evaluate(event);
}
