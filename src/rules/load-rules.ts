import { promises as fs } from 'node:fs';
import path from 'node:path';
import { decodeFileText } from './file-text';
import { ENVIRONMENT_CATALOGUE, type RuleCatalogue } from './catalogue';
import type { RuleDefinition } from './definitions';
import { checkExamples } from './examples';
import { findRuleFiles } from './find-rule-files';
import { parseRuleFile } from './parse-rule-file';
import { sortProblems, type RuleProblem } from './problems';
import { RuleSet } from './rule-set';

export interface LoadResult {
  /** undefined when there are problems: a rule set is used only when every file is valid. */
  ruleSet?: RuleSet;
  problems: RuleProblem[];
  /** Examples that do not hold. `validate` fails on them; `serve` logs them and goes on. */
  exampleFailures: RuleProblem[];
  /** What holds but is likely not what was meant: `validate` prints them, `serve` logs them; neither fails. */
  warnings: RuleProblem[];
  /** The files read (relative to the working directory). */
  files: string[];
  /** The folder or a file could not be read (a problem that may pass by itself: a mount's hiccup, too many open files). */
  unreadable?: boolean;
}

export interface LoadOptions {
  /** "now" for examples without `at`; default Date.now(). */
  now?: number;
  /** What problem and rule file names are relative to; default process.cwd(). */
  cwd?: string;
  /**
   * The channels and accounts rules may name; default the environment's alone (no channels
   * file). `null`: their names are not checked (the channels file itself is broken).
   */
  catalogue?: RuleCatalogue | null;
  /** Where `dir` came from (`RULES_DIR`, `--rules`): a folder that cannot be read is named with it and its absolute path. */
  dirNamedBy?: string;
}

/**
 * Loads every rule file under `dir`, validates it, compiles the rule set and
 * runs the examples. Every problem of every file is reported, not just the
 * first; examples run for every rule whose `when` and examples are sound, even
 * when it or other rules have problems.
 */
export async function loadRuleSet(dir: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const cwd = opts.cwd ?? process.cwd();
  const display = (abs: string) => path.relative(cwd, abs) || '.';
  const absDir = path.resolve(cwd, dir);

  let files: string[];
  try {
    const stat = await fs.stat(absDir);
    if (!stat.isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
    files = await findRuleFiles(absDir);
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such folder' : (e as Error).message;
    return {
      problems: [{ file: display(absDir), line: 1, column: 1, message: `cannot read the rules folder${opts.dirNamedBy ? ` ${absDir} (${opts.dirNamedBy})` : ''}: ${reason}` }],
      exampleFailures: [],
      warnings: [],
      files: [],
      unreadable: true,
    };
  }

  const problems: RuleProblem[] = [];
  const warnings: RuleProblem[] = [];
  const valid: RuleDefinition[] = [];
  const evaluable: RuleDefinition[] = [];
  const firstSeen = new Map<string, string>();
  let unreadable = false;
  for (const abs of files) {
    const file = display(abs);
    let bytes: Buffer;
    try {
      bytes = await fs.readFile(abs);
    } catch (e) {
      problems.push({ file, line: 1, column: 1, message: `cannot read the file: ${(e as Error).message}` });
      unreadable = true;
      continue;
    }
    const decoded = decodeFileText(bytes);
    if ('problem' in decoded) {
      problems.push({ file, ...decoded.problem });
      continue;
    }
    const text = decoded.text;
    const parsed = parseRuleFile(text, file, opts.catalogue === null ? undefined : (opts.catalogue ?? ENVIRONMENT_CATALOGUE));
    problems.push(...parsed.problems);
    warnings.push(...parsed.warnings);
    const duplicates = new Set<string>();
    for (const { id, position } of parsed.ids) {
      const earlier = firstSeen.get(id);
      const here = `${file}:${position.line}:${position.column}`;
      if (earlier === undefined) firstSeen.set(id, here);
      else {
        problems.push({ file, ...position, message: `duplicate id ${JSON.stringify(id)}: already used at ${earlier}` });
        duplicates.add(here);
      }
    }
    for (const rule of parsed.rules) if (!duplicates.has(`${file}:${rule.line}:${rule.column}`)) valid.push(rule);
    evaluable.push(...parsed.evaluable);
  }

  const displayFiles = files.map(display);
  // Without problems every rule is valid and evaluable alike; with some, no rule set is used,
  // and the examples run on every rule that can be evaluated (a duplicate id, a bad action).
  const ok = problems.length === 0;
  const compiled = new RuleSet(ok ? valid : evaluable, displayFiles);
  const exampleFailures = checkExamples(compiled, opts.now ?? Date.now());
  return {
    ...(ok ? { ruleSet: compiled } : {}),
    problems: sortProblems(problems),
    exampleFailures: sortProblems(exampleFailures),
    warnings: sortProblems(warnings),
    files: displayFiles,
    ...(unreadable ? { unreadable } : {}),
  };
}
