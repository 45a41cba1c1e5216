import { z } from 'zod';
import { didYouMean } from './problems';

/*
 * Objects of the YAML files (rule files, the channels file) reject unknown keys through
 * `knownKeys`, so each unknown key becomes its own issue at its own key, with a "did you
 * mean", and so the check runs even when other fields have errors.
 *
 * They are zod's strict objects underneath: only those see every key of the input as
 * written. A loose object's output (what a refinement gets) leaves out `__proto__`,
 * which would then pass unreported; a key is data, never structure, so it is an unknown
 * key like any other.
 */

/** Marks an issue that belongs at the key rather than at its value. */
export const AT_KEY = 'key';

export function knownKeys<S extends z.ZodRawShape>(shape: S, where: string) {
  const names = Object.keys(shape);
  return z.strictObject(shape).superRefine(
    (_value, ctx) => {
      // zod reports this object's unknown keys as one issue for all of them (nested objects'
      // are already split by their own knownKeys); one issue per key instead, each at its key.
      const unknown = ctx.issues.filter((i) => i.code === 'unrecognized_keys' && (i.path ?? []).length === 0);
      for (const issue of unknown) {
        ctx.issues.splice(ctx.issues.indexOf(issue), 1);
        for (const key of (issue as { keys: string[] }).keys) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message:
              key === '<<'
                ? `unknown key "<<" in ${where}: YAML 1.2 has no merge keys; write the keys out, or use an alias (*name) for a whole value`
                : `unknown key ${JSON.stringify(key)} in ${where}${didYouMean(key, names) || `; expected one of ${names.join(', ')}`}`,
            params: { at: AT_KEY },
          });
        }
      }
    },
    { when: () => true },
  );
}
