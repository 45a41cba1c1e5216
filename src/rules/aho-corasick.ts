/**
 * Aho–Corasick over UTF-16 code units: finds every occurrence of every pattern
 * in one pass over the text, however many patterns there are. A pattern is
 * reported exactly when `text.includes(pattern)` would be true.
 *
 * Built once, then read-only. Transitions out of the root (taken for most
 * characters of most texts) are a direct table; the others live in one
 * open-addressing hash table keyed by (state, code unit), so scanning does no
 * Map lookups and allocates nothing.
 */
export class AhoCorasick {
  readonly patternCount: number;
  private readonly rootNext: Int32Array;
  private readonly keys: Float64Array;
  private readonly values: Int32Array;
  private readonly mask: number;
  private readonly fail: Int32Array;
  /** The pattern that ends at a state, or -1. */
  private readonly output: Int32Array;
  /** The nearest state down the failure chain that ends a pattern, or 0. */
  private readonly dict: Int32Array;

  /** `patterns` must be non-empty strings; a pattern's id is its index. Duplicates report the first id. */
  constructor(patterns: readonly string[]) {
    this.patternCount = patterns.length;
    // Build a trie with Map edges (simple), then flatten it for scanning.
    const edges: Map<number, number>[] = [new Map()];
    const output: number[] = [-1];
    patterns.forEach((p, id) => {
      if (p.length === 0) throw new Error('an Aho–Corasick pattern cannot be empty');
      let s = 0;
      for (let i = 0; i < p.length; i++) {
        const c = p.charCodeAt(i);
        let next = edges[s]!.get(c);
        if (next === undefined) {
          next = edges.length;
          edges.push(new Map());
          output.push(-1);
          edges[s]!.set(c, next);
        }
        s = next;
      }
      if (output[s] === -1) output[s] = id;
    });

    const stateCount = edges.length;
    this.output = Int32Array.from(output);
    this.fail = new Int32Array(stateCount);
    this.dict = new Int32Array(stateCount);
    // 256 KiB, so only when there is something to find.
    this.rootNext = new Int32Array(patterns.length ? 65536 : 0);

    let edgeCount = 0;
    for (const e of edges) edgeCount += e.size;
    let size = 16;
    while (size < edgeCount * 2) size *= 2;
    this.mask = size - 1;
    this.keys = new Float64Array(size).fill(-1);
    this.values = new Int32Array(size);

    for (const [c, next] of edges[0]!) this.rootNext[c] = next;
    for (let s = 1; s < stateCount; s++) for (const [c, next] of edges[s]!) this.put(s, c, next);

    // Breadth-first, so every state's failure target is finished before it is needed.
    const queue: number[] = [...edges[0]!.values()];
    for (let head = 0; head < queue.length; head++) {
      const s = queue[head]!;
      for (const [c, next] of edges[s]!) {
        let f = this.fail[s]!;
        let target = this.step(f, c);
        while (target < 0) {
          f = this.fail[f]!;
          target = this.step(f, c);
        }
        this.fail[next] = target === next ? 0 : target;
        const ft = this.fail[next]!;
        this.dict[next] = this.output[ft]! >= 0 ? ft : this.dict[ft]!;
        queue.push(next);
      }
    }
  }

  /** Calls `onMatch(patternId)` once per occurrence, in order of where occurrences end. */
  forEachMatch(text: string, onMatch: (patternId: number) => void): void {
    if (this.patternCount === 0) return;
    let s = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      let next = this.step(s, c);
      while (next < 0) {
        s = this.fail[s]!;
        next = this.step(s, c);
      }
      s = next;
      let t = this.output[s]! >= 0 ? s : this.dict[s]!;
      while (t > 0) {
        onMatch(this.output[t]!);
        t = this.dict[t]!;
      }
    }
  }

  /** The transition from `s` on `c`: from the root always a state (0 stays), elsewhere -1 when there is none. */
  private step(s: number, c: number): number {
    if (s === 0) return this.rootNext[c]!;
    const key = s * 65536 + c;
    for (let h = this.hash(s, c); ; h = (h + 1) & this.mask) {
      const k = this.keys[h]!;
      if (k === key) return this.values[h]!;
      if (k === -1) return -1;
    }
  }

  private put(s: number, c: number, next: number): void {
    let h = this.hash(s, c);
    while (this.keys[h] !== -1) h = (h + 1) & this.mask;
    this.keys[h] = s * 65536 + c;
    this.values[h] = next;
  }

  private hash(s: number, c: number): number {
    return (Math.imul(s, 0x9e3779b1) ^ Math.imul(c + 1, 0x85ebca6b)) & this.mask;
  }
}
