import type { Evaluation } from './evaluation';
import type { RuleEvent } from './match-context';
import type { RuleSet } from './rule-set';

export type { Evaluation };

/** Which rules match `event` and what they ask for. Pure: the same inputs give the same answer. */
export function evaluate(ruleSet: RuleSet, event: RuleEvent): Evaluation {
  return ruleSet.evaluate(event);
}
