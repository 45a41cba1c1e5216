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

/**
 * A hint for a YAML syntax error at an unquoted `${VARIABLE}` in flow style (`{ token: ${T} }`,
 * `[${URL}]`): there `{` starts a map, so the parser reports an unexpected flow-map-start (at the
 * `{`) or a missing comma, and says nothing of quotes. Reported at the `$`, where the quote goes.
 */
export function unquotedReferenceHint(text: string, offset: number): { offset: number; hint: string } | undefined {
  const start = text.startsWith('${', offset) ? offset : offset > 0 && text.startsWith('${', offset - 1) ? offset - 1 : undefined;
  if (start === undefined) return undefined;
  const reference = new RegExp(`^\\$\\{${NAME}\\}`).exec(text.slice(start, start + 200))?.[0] ?? '${VARIABLE}';
  // The key it is the value of, when written on the same line (`token: ${T}`); none in a list.
  const key = /([^\s{}[\],:"'#]+)[ \t]*:[ \t]*$/.exec(text.slice(text.lastIndexOf('\n', start - 1) + 1, start))?.[1];
  const quoted = `"${reference}"`;
  return { offset: start, hint: `in flow style ({ } or [ ]) ${reference} must be quoted, as "{" starts a map there: write ${key === undefined ? quoted : `${key}: ${quoted}`}` };
}
