import { z } from 'zod';
import { didYouMean } from './problems';

/*
 * Objects of the YAML files (rule files, the channels file) reject unknown keys through
 * `knownKeys` rather than zod's strict objects, so each unknown key becomes its own
 * issue at its own key, with a "did you mean", and so the check runs even when other
 * fields have errors.
 */

/** Marks an issue that belongs at the key rather than at its value. */
export const AT_KEY = 'key';

export function knownKeys<S extends z.ZodRawShape>(shape: S, where: string) {
  const names = Object.keys(shape);
  return z.looseObject(shape).superRefine(
    (value, ctx) => {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
      for (const key of Object.keys(value)) {
        if (names.includes(key)) continue;
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `unknown key ${JSON.stringify(key)} in ${where}${didYouMean(key, names) || `; expected one of ${names.join(', ')}`}`,
          params: { at: AT_KEY },
        });
      }
    },
    { when: () => true },
  );
}

