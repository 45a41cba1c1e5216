import { LineCounter, isAlias, isMap, isPair, isScalar, isSeq, parseDocument, visit, type Alias, type Document, type Node } from 'yaml';

/**
 * A rule file parsed as YAML 1.2, turned into plain values, with a way back
 * from any path in those values to the line and column it was written at.
 *
 * Every scalar is taken as written (`add_tag: 00123` is "00123", `equals: yes`
 * is "yes"); only the keys below, which hold numbers or booleans, get YAML's
 * core-schema reading of a plain scalar.
 */
const TYPED_KEYS = new Set(['priority', 'enabled', 'stop', 'case_sensitive']);

export interface Position {
  line: number;
  column: number;
}

export type PathSegment = string | number;

/**
 * A hint for the syntax error the parser reports at `offset` of `text`, and where to report it;
 * undefined when there is none. The channels file's `${VARIABLE}` has one; rule files have none.
 */
export type SyntaxHint = (text: string, offset: number) => { offset: number; hint: string } | undefined;

export interface YamlSource {
  /** undefined when the file has syntax errors. */
  value: unknown;
  syntaxErrors: { position: Position; message: string }[];
  /** Where the node at `path` starts; with `at: 'key'`, where its key is written. */
  locate(path: readonly PathSegment[], at?: 'key' | 'value'): Position;
}

// Aliases are expanded into copies; a bound keeps a hostile file (billion laughs,
// an anchor that contains its own alias) from exhausting memory.
const MAX_ALIAS_EXPANSIONS = 10_000;

class AliasError extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * What each alias stands for: the latest anchor of its name before it, found in
 * one pass (yaml's own `Alias.resolve` walks the whole document on every call).
 */
function aliasTargets(doc: Document): Map<Alias, unknown> {
  const latest = new Map<string, unknown>();
  const targets = new Map<Alias, unknown>();
  visit(doc, (_key, node) => {
    // `visit` passes null too: the value of a key written without one (`{expect}`, `? x`).
    if (node === null || typeof node !== 'object') return;
    if (isAlias(node)) {
      if (latest.has(node.source)) targets.set(node, latest.get(node.source));
    } else if ((node as { anchor?: string }).anchor) {
      latest.set((node as { anchor: string }).anchor, node);
    }
  });
  return targets;
}

interface Expansion {
  targets: Map<Alias, unknown>;
  count: number;
  /** Collections being converted, to catch an alias inside its own anchor. */
  open: Set<unknown>;
}

/**
 * Characters YAML 1.2 allows in a stream (c-printable): tab, the line breaks, and printable
 * characters — not the C0 controls, DEL, the C1 controls but NEL, nor U+FFFE/U+FFFF.
 */
const NOT_PRINTABLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u0084\u0086-\u009f\ufffe\uffff]/;

export function parseYamlSource(input: string, hint?: SyntaxHint): YamlSource {
  // A lone CR is a line break in YAML 1.2 (b-break) that the parser does not take as one: the
  // same break as LF, one character for one, so every offset stays where it was.
  const text = input.includes('\r') ? input.replace(/\r(?!\n)/g, '\n') : input;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    schema: 'core',
    version: '1.2',
    uniqueKeys: true,
  });
  const position = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  // A hint is given once for its place: the parser's further complaints about the same text follow it as they are.
  const hinted = new Set<number>();
  const reported = new Set<string>();
  const syntaxErrors = doc.errors
    .map((e) => {
      const message = syntaxMessage(e.code, e.message, text.slice(e.pos[0]));
      const found = hint?.(text, e.pos[0]);
      if (found === undefined || hinted.has(found.offset)) return { position: position(e.pos[0]), message };
      hinted.add(found.offset);
      return { position: position(found.offset), message: `${message}; ${found.hint}` };
    })
    // The parser may report one fault twice at one place (an unclosed `{` inside an unclosed `[`):
    // `validate` prints one line per problem, so the same message at the same place is kept once.
    .filter((e) => {
      const key = `${e.position.line}:${e.position.column}:${e.message}`;
      if (reported.has(key)) return false;
      reported.add(key);
      return true;
    });
  const unprintable = NOT_PRINTABLE.exec(text);
  if (unprintable) {
    const code = (unprintable[0].codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0');
    syntaxErrors.push({
      position: position(unprintable.index),
      message: `U+${code} is a control character, which a YAML file may not hold (YAML 1.2 allows tab, line breaks and printable characters only): remove it, or write it as an escape inside double quotes ("\\u${code.toLowerCase()}")`,
    });
    syntaxErrors.sort((a, b) => a.position.line - b.position.line || a.position.column - b.position.column);
  }
  let value: unknown;
  if (!syntaxErrors.length) {
    try {
      // Finding aliases walks the whole document; a file without '*' has none.
      const targets = text.includes('*') ? aliasTargets(doc) : new Map<Alias, unknown>();
      value = toValue(doc.contents, undefined, { targets, count: 0, open: new Set() });
    } catch (e) {
      if (!(e instanceof AliasError)) throw e;
      syntaxErrors.push({ position: position(e.offset), message: e.message });
    }
  }
  return {
    value,
    syntaxErrors,
    locate: (path, at = 'value') => position(offsetOf(doc, path, at)),
  };
}

/** The parser's message, in the file's terms where it speaks of its own API. */
function syntaxMessage(code: string, message: string, at: string): string {
  if (code === 'MULTIPLE_DOCS') return 'the file must hold one YAML document, and this one holds more (a line `---` starts another): put each in a file of its own';
  if (code === 'DUPLICATE_KEY') {
    // The key as written where the parser points (its second writing), up to its `:`.
    // A quoted key ends at its quote (JSON style, `{"event":message}`, needs no space after the colon).
    const m = /^(?:("(?:[^"\\\n]|\\.)*"|'(?:[^'\n]|'')*')[ \t]*:|([^:\n#]*?)[ \t]*:(?=[\s,}\]]|$))/.exec(at);
    const key = m?.[1] ?? m?.[2];
    return key && key.length <= 80 ? `key ${key.startsWith('"') || key.startsWith("'") ? key : JSON.stringify(key)} is written twice in this map: keep one` : 'a key is written twice in this map: keep one';
  }
  return message;
}

/** A key as the values read it: a scalar as written, an alias as the scalar it stands for, anything else as YAML prints it. */
function keyText(key: unknown, resolve: (alias: Alias) => unknown): string {
  const k = isAlias(key) ? resolve(key) : key;
  return isScalar(k) ? (k.source ?? String(k.value)) : String(k);
}

function toValue(node: unknown, key: string | undefined, x: Expansion): unknown {
  if (isAlias(node)) {
    const offset = node.range?.[0] ?? 0;
    if (++x.count > MAX_ALIAS_EXPANSIONS) throw new AliasError(offset, `aliases expand to more than ${MAX_ALIAS_EXPANSIONS} copies`);
    if (!x.targets.has(node)) throw new AliasError(offset, `unknown alias *${node.source}`);
    const target = x.targets.get(node);
    if (x.open.has(target)) throw new AliasError(offset, `alias *${node.source} refers to a node that contains it`);
    return toValue(target, key, x);
  }
  if (isScalar(node)) {
    if (key !== undefined && TYPED_KEYS.has(key) && node.type === 'PLAIN') return node.value;
    // An empty plain scalar (`when:` with nothing after it) is YAML's null, not the text "".
    if (node.type === 'PLAIN' && (node.source === '' || node.source === undefined) && node.value === null) return null;
    return node.source ?? String(node.value);
  }
  if (isMap(node) || isSeq(node)) {
    x.open.add(node);
    try {
      if (isSeq(node)) return node.items.map((item) => toValue(item, undefined, x));
      // A key is data, never structure: on a null-prototype object, defined rather than assigned,
      // `__proto__` (or `constructor`) is a key like any other — an unknown one, reported as such —
      // and no key is inherited from Object.prototype.
      const out = Object.create(null) as Record<string, unknown>;
      for (const pair of node.items) {
        const k = keyText(pair.key, (alias) => x.targets.get(alias) ?? alias);
        // The parser finds keys written twice as written; a key written once as itself and once
        // through an alias (`*w :` for `when`) only here.
        if (Object.prototype.hasOwnProperty.call(out, k)) {
          throw new AliasError(rangeStart(pair.key) ?? 0, `key ${JSON.stringify(k)} is written twice in this map${isAlias(pair.key) ? ` (here through the alias *${pair.key.source})` : ''}: keep one`);
        }
        Object.defineProperty(out, k, { value: toValue(pair.value, k, x), enumerable: true, writable: true, configurable: true });
      }
      return out;
    } finally {
      x.open.delete(node);
    }
  }
  return null;
}

function offsetOf(doc: Document, path: readonly PathSegment[], at: 'key' | 'value'): number {
  let node: unknown = doc.contents;
  let keyOffset: number | undefined;
  // A path through an alias is about that use of the anchor's value: said at the alias (`- *a`),
  // not inside the anchor, where the same text may hold no problem of its own (a duplicate id).
  let aliasOffset: number | undefined;
  for (const segment of path) {
    if (isAlias(node)) {
      aliasOffset ??= rangeStart(node);
      node = node.resolve(doc);
    }
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && keyText(p.key, (alias) => alias.resolve(doc)) === String(segment));
      if (pair) {
        keyOffset = (pair.key as Node).range?.[0];
        next = pair.value;
      }
    } else if (isSeq(node) && typeof segment === 'number') {
      next = node.items[segment];
      keyOffset = undefined;
    }
    // The path goes on past what is written (a missing key, an index into a scalar that
    // was read as a one-item list): the deepest node that exists is the place to look.
    if (next === undefined) return aliasOffset ?? rangeStart(node) ?? 0;
    node = next;
  }
  if (aliasOffset !== undefined) return aliasOffset;
  if (at === 'key' && keyOffset !== undefined) return keyOffset;
  // `key:` with nothing after it: point at the key, not at the empty space behind it.
  if (isScalar(node) && node.value === null && node.source === '' && keyOffset !== undefined) return keyOffset;
  return rangeStart(node) ?? keyOffset ?? 0;
}

function rangeStart(node: unknown): number | undefined {
  return (node as Partial<Node> | null)?.range?.[0];
}
