import { declaredCatalogue, ruleCatalogue } from './catalogue';
import { loadChannelsFile } from './load-channels';
import type { RuleCatalogue, RuleProblem } from '../rules';
import type { ChannelsFile } from './definitions';

/**
 * The channels file as `validate` and `test` read it: without needing the secrets (an
 * unset variable is a warning), for the names rules may use.
 */
export interface ChannelsForRules {
  /**
   * null when the file could not be read as YAML: rules' channel and account names are then
   * not checked. With other problems, they are checked against what the file declares.
   */
  catalogue: RuleCatalogue | null;
  file: ChannelsFile | undefined;
  problems: RuleProblem[];
  warnings: RuleProblem[];
}

export function channelsForRules(env: NodeJS.ProcessEnv, cwd: string): ChannelsForRules {
  const loaded = loadChannelsFile(env, cwd, 'warning');
  return {
    catalogue: !loaded.problems.length ? ruleCatalogue(loaded.channels) : loaded.declared ? declaredCatalogue(loaded.declared, loaded.problems[0]?.file ?? '') : null,
    file: loaded.channels,
    problems: loaded.problems,
    warnings: loaded.warnings,
  };
}
