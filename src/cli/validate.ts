import type { Command } from 'commander';
import { plural } from '../plural';
import { processIo, type CommandIo } from './command-io';
import { environmentWarnings, unsetVariableWarnings } from './environment-problems';

export type { CommandIo };

export interface RulesCommandDeps {
  env: NodeJS.ProcessEnv;
  /** "now" for examples without `at` (and for `test` without `--at`). */
  now: () => number;
  cwd: string;
}

export function defaultDeps(): RulesCommandDeps {
  return { env: process.env, now: Date.now, cwd: process.cwd() };
}

/** `--rules`, else RULES_DIR, else ./rules — as `serve` reads it. */
export function rulesDirOf(option: string | undefined, env: NodeJS.ProcessEnv): string {
  return option ?? (env.RULES_DIR?.trim() || './rules');
}

/** What named the folder rulesDirOf gives: said when it cannot be read. */
export function rulesDirNamedBy(option: string | undefined, env: NodeJS.ProcessEnv): string {
  return option !== undefined ? '--rules' : env.RULES_DIR?.trim() ? 'RULES_DIR' : 'the default, RULES_DIR unset';
}

/**
 * `autotag validate [--rules DIR]`: checks the channels file (CHANNELS_FILE, or
 * ./channels.yaml) and every rule file against it. Exit 0 with a one-line summary on
 * stdout when all is valid and every example holds; otherwise exit 1 with one
 * `FILE:LINE:COLUMN: message` line per problem on stderr and nothing else. An unset
 * `${VARIABLE}` of the channels file is only a warning here (`serve` refuses it).
 */
export async function runValidate(opts: { rules?: string }, io: CommandIo, deps: RulesCommandDeps = defaultDeps()): Promise<number> {
  // Loaded on use: `autotag --help` must not wait for the rules engine (zod, yaml).
  const { formatProblem, loadRuleSet } = await import('../rules');
  const { sortProblems } = await import('../rules/problems');
  const { channelsForRules } = await import('../channels/for-rules');
  const dir = rulesDirOf(opts.rules, deps.env);
  const channels = channelsForRules(deps.env, deps.cwd);
  const result = await loadRuleSet(dir, { now: deps.now(), cwd: deps.cwd, catalogue: channels.catalogue, dirNamedBy: rulesDirNamedBy(opts.rules, deps.env) });
  const all = sortProblems([...channels.problems, ...result.problems, ...result.exampleFailures]);
  if (all.length) {
    io.stderr(all.map((p) => `${formatProblem(p)}\n`).join(''));
    return 1;
  }
  for (const warning of unsetVariableWarnings(channels.warnings)) io.stderr(warning);
  // The rest of the environment, as a check before a deploy: what `serve` would refuse (a misspelt
  // LOG_LEVEL, a bad PORT) is said, without failing the rules' validation.
  for (const warning of await environmentWarnings(deps.env, deps.cwd)) io.stderr(warning);
  for (const w of result.warnings) io.stderr(`warning: ${formatProblem(w)}\n`);
  if (result.files.length === 0) io.stderr(`warning: no rule files (*.yaml, *.yml) in ${dir}: no event will be tagged\n`);
  const rules = result.ruleSet?.rules ?? [];
  const examples = rules.reduce((n, r) => n + r.definition.examples.length, 0);
  const disabled = rules.filter((r) => !r.enabled).length;
  const file = channels.file;
  io.stdout(
    `${plural(rules.length, 'rule')} in ${plural(result.files.length, 'file')} OK` +
      `${disabled ? ` (${disabled} disabled)` : ''}; ${plural(examples, 'example')} ${examples === 1 ? 'holds' : 'hold'}` +
      `${file ? `; ${file.file}: ${plural(file.channels.length, 'channel')}, ${plural(file.accounts.length, 'account')} OK` : ''}\n`,
  );
  return 0;
}

export function registerValidateCommand(program: Command, io: CommandIo = processIo, deps: () => RulesCommandDeps = defaultDeps): void {
  program
    .command('validate')
    .description('check the channels file and every rule file, and run every rule\'s examples; exit 1 with FILE:LINE:COLUMN problems on stderr')
    .option('--rules <dir>', 'folder of rule files (default: RULES_DIR, else ./rules)')
    .action(async (opts: { rules?: string }) => {
      process.exitCode = await runValidate(opts, io, deps());
    });
}
