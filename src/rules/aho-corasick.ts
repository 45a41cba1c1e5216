/**
 * Aho–Corasick over UTF-16 code units: finds every occurrence of every pattern
 * in one pass over the text, however many patterns there are. A pattern is
 * reported exactly when `text.includes(pattern)` would be true.
 *
 * Built once, then read-only, and laid out for scanning speed, which with many
 * patterns is a matter of cache misses:
 * - states are numbered breadth-first, so the shallow states a scan visits
 *   most, and their edges, sit together in memory;
 * - each state's edges are one sorted run of (code unit, next state) in flat
 *   typed arrays;
 * - transitions out of the root (taken for most characters) are a direct table;
 * - characters that occur in no pattern send the scan straight to the root.
 * Scanning allocates nothing.
 */
/** States with up to this many edges are searched linearly; more get a hash table of their own. */
const LINEAR_EDGES = 6;

/** Spreads code units over a state's slots (CJK code units share their high bits). */
function slotHash(c: number): number {
  return Math.imul(c, 0x9e3779b1) >>> 16;
}

export class AhoCorasick {
  readonly patternCount: number;
  private readonly rootNext: Int32Array;
  /** 1 for code units that occur somewhere in some pattern. */
  private readonly used: Uint8Array;
  /** State s's edges are entries edgeStart[s] … edgeStart[s + 1] - 1, sorted by code unit. */
  private readonly edgeStart: Int32Array;
  private readonly edgeChar: Uint16Array;
  private readonly edgeNext: Int32Array;
  /**
   * States with many edges (the shallow ones a scan is in most of the time) also
   * get a small hash table of their own: slots wideBase[s] … wideBase[s] + mask,
   * mask = wideMask[s], holding (code unit, next state); next -1 marks an empty slot.
   * wideBase[s] is -1 for the others, which are searched linearly.
   */
  private readonly wideBase: Int32Array;
  private readonly wideMask: Int32Array;
  private readonly slotChar: Uint16Array;
  private readonly slotNext: Int32Array;
  private readonly fail: Int32Array;
  /** The pattern that ends at a state, or -1. */
  private readonly output: Int32Array;
  /** The nearest state down the failure chain that ends a pattern, or 0. */
  private readonly dict: Int32Array;
  /** The first state to report from: the state itself if it ends a pattern, else its dict. */
  private readonly report: Int32Array;

  /** `patterns` must be non-empty strings; a pattern's id is its index. Duplicates report the first id. */
  constructor(patterns: readonly string[]) {
    this.patternCount = patterns.length;
    // 1. A trie with Map edges, states numbered as they are made.
    const trie: Map<number, number>[] = [new Map()];
    const trieOutput: number[] = [-1];
    patterns.forEach((p, id) => {
      if (p.length === 0) throw new Error('an Aho–Corasick pattern cannot be empty');
      let s = 0;
      for (let i = 0; i < p.length; i++) {
        const c = p.charCodeAt(i);
        let next = trie[s]!.get(c);
        if (next === undefined) {
          next = trie.length;
          trie.push(new Map());
          trieOutput.push(-1);
          trie[s]!.set(c, next);
        }
        s = next;
      }
      if (trieOutput[s] === -1) trieOutput[s] = id;
    });

    // 2. Renumber breadth-first and flatten the edges.
    const count = trie.length;
    const order: number[] = [0];
    const renumbered = new Int32Array(count);
    for (let head = 0; head < order.length; head++) {
      const edges = [...trie[order[head]!]!].sort((a, b) => a[0] - b[0]);
      trie[order[head]!] = new Map(edges);
      for (const [, child] of edges) {
        renumbered[child] = order.length;
        order.push(child);
      }
    }
    this.edgeStart = new Int32Array(count + 1);
    this.edgeChar = new Uint16Array(count - 1);
    this.edgeNext = new Int32Array(count - 1);
    this.output = new Int32Array(count);
    let e = 0;
    order.forEach((old, s) => {
      this.edgeStart[s] = e;
      this.output[s] = trieOutput[old]!;
      for (const [c, child] of trie[old]!) {
        this.edgeChar[e] = c;
        this.edgeNext[e++] = renumbered[child]!;
      }
    });
    this.edgeStart[count] = e;
    this.wideBase = new Int32Array(count).fill(-1);
    this.wideMask = new Int32Array(count);
    let slots = 0;
    for (let st = 1; st < count; st++) {
      const edges = this.edgeStart[st + 1]! - this.edgeStart[st]!;
      if (edges <= LINEAR_EDGES) continue;
      let size = 16;
      while (size < edges * 2) size *= 2;
      this.wideBase[st] = slots;
      this.wideMask[st] = size - 1;
      slots += size;
    }
    this.slotChar = new Uint16Array(slots);
    this.slotNext = new Int32Array(slots).fill(-1);
    for (let st = 1; st < count; st++) {
      const base = this.wideBase[st]!;
      if (base < 0) continue;
      const mask = this.wideMask[st]!;
      for (let i = this.edgeStart[st]!; i < this.edgeStart[st + 1]!; i++) {
        const c = this.edgeChar[i]!;
        let h = slotHash(c) & mask;
        while (this.slotNext[base + h]! >= 0) h = (h + 1) & mask;
        this.slotChar[base + h] = c;
        this.slotNext[base + h] = this.edgeNext[i]!;
      }
    }

    // 64 + 256 KiB, so only when there is something to find.
    this.used = new Uint8Array(patterns.length ? 65536 : 0);
    this.rootNext = new Int32Array(patterns.length ? 65536 : 0);
    for (let i = 0; i < this.edgeChar.length; i++) this.used[this.edgeChar[i]!] = 1;
    for (let i = this.edgeStart[0]!; i < this.edgeStart[1]!; i++) this.rootNext[this.edgeChar[i]!] = this.edgeNext[i]!;

    // 3. Failure and dictionary links, breadth-first (state order), so each state's
    //    failure target is finished before it is needed.
    this.fail = new Int32Array(count);
    this.dict = new Int32Array(count);
    this.report = new Int32Array(count);
    for (let s = 0; s < count; s++) {
      if (s > 0) this.report[s] = this.output[s]! >= 0 ? s : this.dict[s]!;
      for (let i = this.edgeStart[s]!; i < this.edgeStart[s + 1]!; i++) {
        const next = this.edgeNext[i]!;
        if (s === 0) continue; // depth 1 fails to the root, already 0
        const c = this.edgeChar[i]!;
        let f = this.fail[s]!;
        let target = this.step(f, c);
        while (target < 0) {
          f = this.fail[f]!;
          target = this.step(f, c);
        }
        this.fail[next] = target;
        this.dict[next] = this.output[target]! >= 0 ? target : this.dict[target]!;
      }
    }
  }

  /** Calls `onMatch(patternId)` once per occurrence, in order of where occurrences end. */
  forEachMatch(text: string, onMatch: (patternId: number) => void): void {
    if (this.patternCount === 0) return;
    const { used, report, dict, output, fail } = this;
    let s = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (used[c] === 0) {
        // No pattern contains this character: every failure path ends at the root, which stays.
        s = 0;
        continue;
      }
      let next = this.step(s, c);
      while (next < 0) {
        s = fail[s]!;
        next = this.step(s, c);
      }
      s = next;
      for (let t = report[s]!; t > 0; t = dict[t]!) onMatch(output[t]!);
    }
  }

  /** The transition from `s` on `c`: from the root always a state (0 stays), elsewhere -1 when there is none. */
  private step(s: number, c: number): number {
    if (s === 0) return this.rootNext[c]!;
    const base = this.wideBase[s]!;
    if (base >= 0) {
      const mask = this.wideMask[s]!;
      for (let h = slotHash(c) & mask; ; h = (h + 1) & mask) {
        const next = this.slotNext[base + h]!;
        if (next < 0 || this.slotChar[base + h] === c) return next;
      }
    }
    const chars = this.edgeChar;
    for (let i = this.edgeStart[s]!, end = this.edgeStart[s + 1]!; i < end; i++) {
      const x = chars[i]!;
      if (x === c) return this.edgeNext[i]!;
      if (x > c) return -1;
    }
    return -1;
  }
}
