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
  const { ctx, order } = ruleSet.prepare(event);
  const matched: string[] = [];
  const actions: TagAction[] = [];
  let taken: Set<string> | undefined;
  for (const index of order) {
    if (!ruleSet.holds(index, ctx)) continue;
    const rule = ruleSet.rules[index]!;
    matched.push(rule.id);
    const keys = ruleSet.actionKeysOf(index);
    rule.actions.forEach((action, i) => {
      const key = keys[i]!;
      taken ??= new Set();
      if (taken.has(key)) return;
      taken.add(key);
      actions.push(action);
    });
    if (rule.stop) break;
  }
  return { matched, actions };
}
