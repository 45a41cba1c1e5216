import { loadRuleSet, type RuleSet } from '../../../src/rules';
import { fixture, NOW, ROOT } from './fixtures';

/** Loads a fixture folder that must be valid, failing the test with its problems otherwise. */
export async function loadValid(...parts: string[]): Promise<RuleSet> {
  const result = await loadRuleSet(fixture(...parts), { cwd: ROOT, now: NOW });
  if (!result.ruleSet || result.exampleFailures.length) {
    throw new Error(`fixture ${parts.join('/')} is not valid: ${JSON.stringify([...result.problems, ...result.exampleFailures])}`);
  }
  return result.ruleSet;
}
