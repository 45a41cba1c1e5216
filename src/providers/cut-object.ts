/**
 * The top-level fields of a JSON object whose text was cut short — an answer read only up
 * to 64 KiB (CONTRACT.md "Retries"). A 2xx whose body says `"success": false` is a failure
 * whatever its length: when that is said before the cut, it is read here (JSON.parse cannot
 * read a cut text at all). Only fields read whole with a scalar value (string, number, true,
 * false, null) are given; a field holding an object or an array, or cut, is left out. Returns
 * undefined when the text does not start as a JSON object, or goes wrong before its cut.
 */
export function fieldsOfCutObject(text: string): Record<string, unknown> | undefined {
  // No prototype: a field named `__proto__` is a field like any other.
  const fields = Object.create(null) as Record<string, unknown>;
  let i = skipSpace(text, 0);
  if (text[i] !== '{') return undefined;
  i++;
  for (;;) {
    i = skipSpace(text, i);
    if (i >= text.length || text[i] === '}') return fields;
    if (text[i] !== '"') return undefined;
    const keyEnd = stringEnd(text, i);
    if (keyEnd === undefined) return fields;
    let key: string;
    try {
      key = JSON.parse(text.slice(i, keyEnd)) as string;
    } catch {
      // A bad escape or a raw control character in the name: not JSON, as for a value.
      return undefined;
    }
    i = skipSpace(text, keyEnd);
    if (i >= text.length) return fields;
    if (text[i] !== ':') return undefined;
    i = skipSpace(text, i + 1);
    if (i >= text.length) return fields;
    const valueEnd = text[i] === '"' ? stringEnd(text, i) : text[i] === '{' || text[i] === '[' ? nestedEnd(text, i) : scalarEnd(text, i);
    if (valueEnd === undefined) return fields;
    if (valueEnd < 0) return undefined;
    if (text[i] !== '{' && text[i] !== '[') {
      try {
        fields[key] = JSON.parse(text.slice(i, valueEnd)) as unknown;
      } catch {
        return undefined;
      }
    }
    i = skipSpace(text, valueEnd);
    if (i >= text.length || text[i] === '}') return fields;
    if (text[i] !== ',') return undefined;
    i++;
  }
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  return i;
}

/** The index after the string starting at `i` (its `"`), or undefined when the text ends inside it. */
function stringEnd(text: string, i: number): number | undefined {
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === '\\') j++;
    else if (text[j] === '"') return j + 1;
  }
  return undefined;
}

/** The index after the object or array starting at `i`, or undefined when the text ends inside it. */
function nestedEnd(text: string, i: number): number | undefined {
  let depth = 0;
  for (let j = i; j < text.length; j++) {
    const c = text[j];
    if (c === '"') {
      const end = stringEnd(text, j);
      if (end === undefined) return undefined;
      j = end - 1;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return j + 1;
    }
  }
  return undefined;
}

/**
 * The index after a number or a literal starting at `i`; undefined when the text ends with it
 * (`tru`, or `12` of `123`, may have been cut), -1 when nothing of the kind starts there.
 */
function scalarEnd(text: string, i: number): number | undefined {
  // Checked first: a number cut at its `.`, `e` or `e+` (`1.` of `1.5`) starts with a whole one.
  if (couldBeCutScalar(text.slice(i))) return undefined;
  const m = /^(?:-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 64));
  return m ? i + m[0].length : -1;
}

/** Whether `rest` (to the end of the text) is the start of a number or a literal the cut went through. */
function couldBeCutScalar(rest: string): boolean {
  return ['true', 'false', 'null'].some((literal) => literal.startsWith(rest)) || /^-?(?:\d+(?:\.\d*)?(?:[eE][+-]?\d*)?)?$/.test(rest);
}
