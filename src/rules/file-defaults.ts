import type { z } from 'zod';
import { defaultsSchema, type DefaultsInput } from './schema';

export type DefaultKey = keyof DefaultsInput;

export interface FileDefaults {
  /** The keys of `defaults:` whose values are valid. */
  defaults: DefaultsInput;
  /** The keys whose values are not (each reported); a `defaults:` that is not a map breaks them all. */
  broken: ReadonlySet<DefaultKey>;
  issues: readonly z.core.$ZodIssue[];
}

const KEYS = Object.keys(defaultsSchema.shape) as DefaultKey[];

/**
 * Reads a rule file's `defaults:` key by key, so a bad value of one key (a misspelt
 * timezone) keeps back only the checks that depend on that key: the file's other
 * problems are still reported (CONTRACT: every problem, not only the first). An
 * unknown key breaks no default.
 */
export function readDefaults(raw: unknown): FileDefaults {
  if (raw === undefined || raw === null) return { defaults: {}, broken: new Set(), issues: [] };
  const parsed = defaultsSchema.safeParse(raw, { reportInput: true });
  if (parsed.success) return { defaults: parsed.data, broken: new Set(), issues: [] };
  const broken = new Set<DefaultKey>();
  for (const issue of parsed.error.issues) {
    const key = issue.path[0];
    if (issue.path.length === 0) KEYS.forEach((k) => broken.add(k));
    else if ((KEYS as PropertyKey[]).includes(key as PropertyKey)) broken.add(key as DefaultKey);
  }
  const defaults: DefaultsInput = {};
  if (typeof raw === 'object' && !Array.isArray(raw)) {
    for (const key of KEYS) {
      const value = (raw as Record<string, unknown>)[key];
      if (broken.has(key) || value === undefined) continue;
      const one = defaultsSchema.shape[key].safeParse(value);
      if (one.success) Object.assign(defaults, { [key]: one.data });
    }
  }
  return { defaults, broken, issues: parsed.error.issues };
}
