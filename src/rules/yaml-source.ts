import { LineCounter, isAlias, isMap, isPair, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';

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

class AliasLimitError extends Error {
  constructor(readonly offset: number) {
    super(`aliases expand to more than ${MAX_ALIAS_EXPANSIONS} copies (or refer to themselves)`);
  }
}

export function parseYamlSource(text: string): YamlSource {
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
  const syntaxErrors = doc.errors.map((e) => ({ position: position(e.pos[0]), message: e.message }));
  let value: unknown;
  if (!syntaxErrors.length) {
    try {
      value = toValue(doc, doc.contents, undefined, { expansions: 0 });
    } catch (e) {
      if (!(e instanceof AliasLimitError)) throw e;
      syntaxErrors.push({ position: position(e.offset), message: e.message });
    }
  }
  return {
    value,
    syntaxErrors,
    locate: (path, at = 'value') => position(offsetOf(doc, path, at)),
  };
}

function toValue(doc: Document, node: unknown, key: string | undefined, budget: { expansions: number }): unknown {
  if (isAlias(node)) {
    if (++budget.expansions > MAX_ALIAS_EXPANSIONS) throw new AliasLimitError(node.range?.[0] ?? 0);
    return toValue(doc, node.resolve(doc), key, budget);
  }
  if (isScalar(node)) {
    if (key !== undefined && TYPED_KEYS.has(key) && node.type === 'PLAIN') return node.value;
    // An empty plain scalar (`when:` with nothing after it) is YAML's null, not the text "".
    if (node.type === 'PLAIN' && (node.source === '' || node.source === undefined) && node.value === null) return null;
    return node.source ?? String(node.value);
  }
  if (isMap(node)) {
    const out: Record<string, unknown> = {};
    for (const pair of node.items) {
      const k = isScalar(pair.key) ? (pair.key.source ?? String(pair.key.value)) : String(pair.key);
      out[k] = toValue(doc, pair.value, k, budget);
    }
    return out;
  }
  if (isSeq(node)) return node.items.map((item) => toValue(doc, item, undefined, budget));
  return null;
}

function offsetOf(doc: Document, path: readonly PathSegment[], at: 'key' | 'value'): number {
  let node: unknown = doc.contents;
  let keyOffset: number | undefined;
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(doc);
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find(
        (p) => isPair(p) && isScalar(p.key) && (p.key.source ?? String(p.key.value)) === String(segment),
      );
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
    if (next === undefined) return rangeStart(node) ?? 0;
    node = next;
  }
  if (at === 'key' && keyOffset !== undefined) return keyOffset;
  // `key:` with nothing after it: point at the key, not at the empty space behind it.
  if (isScalar(node) && node.value === null && node.source === '' && keyOffset !== undefined) return keyOffset;
  return rangeStart(node) ?? keyOffset ?? 0;
}

function rangeStart(node: unknown): number | undefined {
  return (node as Partial<Node> | null)?.range?.[0];
}
