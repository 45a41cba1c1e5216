/*
 * `${VARIABLE}` in the channels file: read from the environment at start, so the file
 * can be committed and the secrets stay where the platform keeps them (Heroku config
 * vars, Render environment groups, a Docker env file).
 */

const NAME = '[A-Za-z_][A-Za-z0-9_]*';

/** A value that is one reference and nothing else: how every secret must be written. */
export const VARIABLE_ONLY = new RegExp(`^\\$\\{${NAME}\\}$`);

const REFERENCE = new RegExp(`\\$\\{(${NAME})\\}`, 'g');

export interface Substituted {
  /** The value with every reference replaced; undefined when a variable it names is unset. */
  value: string | undefined;
  /** The variables it names, in order. */
  variables: string[];
  /** Those that are unset (or blank). */
  unset: string[];
}

/** Replaces every `${NAME}` in `written` by the variable's value (trimmed); a blank variable is unset. */
export function substitute(written: string, env: NodeJS.ProcessEnv): Substituted {
  const variables: string[] = [];
  const unset: string[] = [];
  const value = written.replace(REFERENCE, (_whole, name: string) => {
    variables.push(name);
    const v = env[name]?.trim();
    if (v === undefined || v === '') {
      unset.push(name);
      return '';
    }
    return v;
  });
  return { value: unset.length > 0 ? undefined : value, variables, unset };
}
