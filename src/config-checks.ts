import fs from 'node:fs';
import { PROVIDER_DESCRIPTORS, type SomeProvider } from './providers';
import type { AccountKey } from './providers/provider';
import { andList } from './plural';

/*
 * Start-time checks that look beyond one variable's own value: the folder RULES_DIR
 * names, and providers whose variables are set only in part. Each problem is a
 * `VARIABLE: what is wrong; what to do` line, collected with the rest of the
 * configuration's problems so every one is reported at once.
 */

/** Set as optionalString reads it: not blank. */
const isSet = (v: string | undefined): v is string => v !== undefined && v.trim() !== '';

/** RULES_DIR must name a folder (the rules are loaded from it and watched). */
export function rulesDirProblem(written: string | undefined, resolved: string): string | undefined {
  const as = isSet(written) ? JSON.stringify(written.trim()) : 'unset, so ./rules';
  const what = isSet(written) && written.trim() === resolved ? as : `${as} (${resolved})`;
  const fix = 'set RULES_DIR to the folder of your *.yaml rule files (relative to the working directory, or absolute)';
  let stat: fs.Stats;
  try {
    stat = fs.statSync(resolved);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR'
      ? `RULES_DIR: ${what} does not exist; ${fix}`
      : `RULES_DIR: ${what} cannot be read (${code ?? String(err)}); ${fix}`;
  }
  if (!stat.isDirectory()) return `RULES_DIR: ${what} is a file, not a folder; ${fix}`;
  return undefined;
}

/**
 * The environment variable an account key of the channels file stands for: a
 * provider's variables are its name and the key in capitals (`bot_id` of
 * mantago is MANTAGO_BOT_ID). Throws when the descriptor's `variables` has none:
 * then the descriptor and this rule disagree, which a unit test catches.
 */
export function keyVariable(provider: SomeProvider, key: AccountKey): string {
  const name = `${provider.name.toUpperCase()}_${key.name.toUpperCase()}`;
  if (!provider.variables.includes(name)) {
    throw new Error(`provider ${provider.name}: its account key ${key.name} has no environment variable ${name} among ${provider.variables.join(', ')}`);
  }
  return name;
}

/**
 * CONTRACT: a provider that is partly configured — some of its variables set, a
 * required one not (a MANTAGO_TOKEN without MANTAGO_BOT_ID or MANTAGO_SECRET, or
 * the other way round) — stops the service, naming what is missing. Which variables
 * are required comes from each descriptor's account keys. Base URLs are left out:
 * they have defaults, and deploy files fill them in for every deploy.
 */
export function partlyConfiguredProblems(env: NodeJS.ProcessEnv, providers: readonly SomeProvider[] = PROVIDER_DESCRIPTORS): string[] {
  const problems: string[] = [];
  for (const provider of providers) {
    const keys = provider.accountKeys.filter((k) => !k.url).map((key) => ({ key, variable: keyVariable(provider, key) }));
    const set = keys.filter((k) => isSet(env[k.variable])).map((k) => k.variable);
    if (set.length === 0) continue;
    const missing = keys.filter((k) => k.key.required && !isSet(env[k.variable])).map((k) => k.variable);
    if (missing.length === 0) continue;
    const required = keys.filter((k) => k.key.required).map((k) => k.variable);
    problems.push(
      `${andList(missing)}: not set, but ${andList(set)} ${set.length > 1 ? 'are' : 'is'}, so ${provider.title} is only partly configured ` +
        `(it needs ${andList(required)}); set ${andList(missing)}, or unset ${andList(set)} to leave ${provider.title} off`,
    );
  }
  return problems;
}

