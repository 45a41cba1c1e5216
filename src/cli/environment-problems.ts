import { formatProblem, type RuleProblem } from '../rules/problems';

/**
 * What `serve` would refuse in the environment's values — a provider only partly configured
 * among them — the channels file and the rules folder left aside (`validate` and `test` read
 * those themselves). The commands that do not start the service say these as warnings, so
 * they can run as a check before a deploy without failing on them.
 */
async function environmentProblems(env: NodeJS.ProcessEnv, cwd: string): Promise<string[]> {
  // Loaded on use: `autotag --help` must not wait for zod.
  const { ConfigError, loadConfig } = await import('../config');
  const { partlyConfiguredProblems } = await import('../config-checks');
  const partly = partlyConfiguredProblems(env);
  try {
    loadConfig(env, { cwd, unsetVariables: 'warning', serveChecks: false, channelsFileProblems: 'leave-out' });
    return partly;
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems, ...partly];
    throw err;
  }
}

/** A warning line (on stderr) for each problem environmentProblems finds. */
export async function environmentWarnings(env: NodeJS.ProcessEnv, cwd: string): Promise<string[]> {
  return (await environmentProblems(env, cwd)).map((problem) => `warning: ${problem} (autotag serve refuses to start on it)\n`);
}

/**
 * A warning line for each `${VARIABLE}` of the channels file that is not set: the commands that
 * read the file without its secrets (`validate`, `test`) go on, `serve` refuses to start.
 */
export function unsetVariableWarnings(warnings: readonly RuleProblem[]): string[] {
  return warnings.map((w) => `warning: ${formatProblem(w)} (autotag serve refuses to start without it)\n`);
}
