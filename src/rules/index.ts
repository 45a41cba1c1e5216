/** The rules engine: rule files in, a compiled rule set out, events evaluated against it. */
export { loadRuleSet, type LoadOptions, type LoadResult } from './load-rules';
export { evaluate, type Evaluation } from './evaluate';
export { RuleSet, type CompiledRule } from './rule-set';
export type { RuleEvent } from './match-context';
export { formatProblem, type RuleProblem } from './problems';
export { bindOperations, type AccountOf, type BindTarget, type PersonOf } from './bind-operations';
export { dryRunWhere, ENVIRONMENT_CATALOGUE, type RuleCatalogue } from './catalogue';
export { dryRunInputs } from './dry-run-inputs';
export { parseInstant, hasOffset } from './instant';
export type * from './definitions';
