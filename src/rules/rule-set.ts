import type { TagAction } from '../providers/tag-operation';
import { AhoCorasick } from './aho-corasick';
import { compileWhen, PatternRegistry, type Need } from './compile-when';
import type { RuleDefinition } from './definitions';
import type { Condition, MatchContext, RuleEvent } from './match-context';
import { nfkc } from './normalize-text';
import { ZoneClock } from './schedule';

export interface CompiledRule {
  readonly id: string;
  /** Relative to the working directory. */
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly description?: string;
  readonly enabled: boolean;
  readonly priority: number;
  readonly stop: boolean;
  readonly actions: readonly TagAction[];
  /**
   * Equal for two loads exactly when the rule behaves the same (enabled, priority,
   * stop, when, then): a reloader compares these to say which ids changed.
   */
  readonly fingerprint: string;
  readonly definition: RuleDefinition;
}

/**
 * Rules compiled once for fast evaluation: in evaluation order, every literal
 * keyword of every rule in one Aho–Corasick index, and for each rule the
 * keywords (or postback data) without which it cannot match. An event then
 * costs one pass over its text plus the rules whose keywords it contains.
 *
 * Evaluation reuses one scratch context; that is safe because evaluation is
 * synchronous and never re-enters itself.
 */
export class RuleSet {
  /** Every rule, disabled ones included, in evaluation order. */
  readonly rules: readonly CompiledRule[];
  /** The rule files the set was loaded from (relative to the working directory). */
  readonly files: readonly string[];

  private readonly conditions: Condition[];
  private readonly actionKeys: string[][];
  private readonly foldedIndex: AhoCorasick;
  private readonly casedIndex: AhoCorasick;
  private readonly foldedIds: Int32Array;
  private readonly casedIds: Int32Array;
  /** Pattern id → enabled rules that need it, as offsets into `needers` (CSR layout). */
  private readonly needStart: Int32Array;
  private readonly needers: Int32Array;
  private readonly byPostbackData = new Map<string, number[]>();
  /** Enabled rules with no keyword to look for: evaluated for every event. */
  private readonly unindexed: Int32Array;
  private readonly ruleSeen: Int32Array;
  private readonly candidates: Int32Array;
  private candidateCount = 0;
  private readonly merged: Int32Array;
  private readonly ctx: MatchContext;
  private readonly onFolded: (localId: number) => void;
  private readonly onCased: (localId: number) => void;

  constructor(definitions: readonly RuleDefinition[], files: readonly string[] = []) {
    // Descending priority; Array.prototype.sort is stable, so ties keep file-then-position order.
    const ordered = [...definitions].sort((a, b) => b.priority - a.priority);
    const patterns = new PatternRegistry();
    const clocks = new Map<string, ZoneClock>();
    const clockFor = (tz: string) => {
      let c = clocks.get(tz);
      if (!c) clocks.set(tz, (c = new ZoneClock(tz)));
      return c;
    };
    const needs: (Need | undefined)[] = [];
    this.conditions = [];
    this.actionKeys = [];
    this.rules = ordered.map((d) => {
      const compiled = compileWhen(d.when, { patterns, clockFor });
      this.conditions.push(compiled.condition);
      needs.push(compiled.need);
      const actions = d.then.map((a) => Object.freeze({ ...a }));
      this.actionKeys.push(actions.map(actionKey));
      return Object.freeze({
        id: d.id,
        file: d.file,
        line: d.line,
        column: d.column,
        ...(d.description !== undefined ? { description: d.description } : {}),
        enabled: d.enabled,
        priority: d.priority,
        stop: d.stop,
        actions: Object.freeze(actions),
        fingerprint: JSON.stringify([d.enabled, d.priority, d.stop, d.when, d.then]),
        definition: d,
      });
    });
    this.files = [...files];

    this.foldedIndex = new AhoCorasick(patterns.folded);
    this.casedIndex = new AhoCorasick(patterns.cased);
    this.foldedIds = Int32Array.from(patterns.foldedIds);
    this.casedIds = Int32Array.from(patterns.casedIds);

    const byPattern: number[][] = Array.from({ length: patterns.count }, () => []);
    const unindexed: number[] = [];
    needs.forEach((need, rule) => {
      if (!this.rules[rule]!.enabled) return;
      if (!need) {
        unindexed.push(rule);
        return;
      }
      for (const p of new Set(need.patterns)) byPattern[p]!.push(rule);
      for (const data of new Set(need.postbackData)) {
        const list = this.byPostbackData.get(data);
        if (list) list.push(rule);
        else this.byPostbackData.set(data, [rule]);
      }
    });
    this.needStart = new Int32Array(patterns.count + 1);
    byPattern.forEach((rules, p) => (this.needStart[p + 1] = this.needStart[p]! + rules.length));
    this.needers = Int32Array.from(byPattern.flat());
    this.unindexed = Int32Array.from(unindexed);
    this.ruleSeen = new Int32Array(this.rules.length);
    this.candidates = new Int32Array(this.rules.length);
    this.merged = new Int32Array(this.rules.length);

    this.ctx = {
      platform: 'line',
      kind: 'other',
      hasText: false,
      textCased: '',
      textFolded: '',
      hasData: false,
      data: '',
      timestamp: 0,
      patternSeen: new Int32Array(patterns.count),
      round: 0,
    };
    this.onFolded = (localId) => this.sawPattern(this.foldedIds[localId]!);
    this.onCased = (localId) => this.sawPattern(this.casedIds[localId]!);
  }

  /**
   * Fills the scratch context for `event` and collects the rules worth evaluating:
   * returns them in evaluation order (a view valid until the next call).
   */
  prepare(event: RuleEvent): { ctx: MatchContext; order: Int32Array } {
    const ctx = this.ctx;
    if (ctx.round >= 0x7ffffffe) {
      // Round stamps are about to overflow: start them again.
      ctx.patternSeen.fill(0);
      this.ruleSeen.fill(0);
      ctx.round = 0;
    }
    ctx.round++;
    ctx.platform = event.platform;
    ctx.kind = event.kind;
    ctx.timestamp = event.timestamp;
    ctx.hasData = event.postbackData !== undefined;
    ctx.data = event.postbackData ?? '';
    ctx.hasText = event.text !== undefined;
    this.candidateCount = 0;
    if (event.text !== undefined) {
      ctx.textCased = nfkc(event.text).trim();
      ctx.textFolded = ctx.textCased.toLowerCase();
      this.foldedIndex.forEachMatch(ctx.textFolded, this.onFolded);
      this.casedIndex.forEachMatch(ctx.textCased, this.onCased);
    } else {
      ctx.textCased = ctx.textFolded = '';
    }
    if (event.postbackData !== undefined) {
      const rules = this.byPostbackData.get(event.postbackData);
      if (rules) for (const r of rules) this.addCandidate(r);
    }
    return { ctx, order: this.mergeCandidates() };
  }

  /** Whether rule `index` (of `rules`) holds for the event `prepare` was last given. */
  holds(index: number, ctx: MatchContext): boolean {
    return this.conditions[index]!(ctx);
  }

  /** One string per action of rule `index`: equal strings mean the same (provider, kind, tag). */
  actionKeysOf(index: number): readonly string[] {
    return this.actionKeys[index]!;
  }

  /** Checks one rule's `when` alone (enabled, priority and stop ignored): what examples test. */
  whenHolds(index: number, event: RuleEvent): boolean {
    const { ctx } = this.prepare(event);
    return this.holds(index, ctx);
  }

  private sawPattern(id: number): void {
    const ctx = this.ctx;
    if (ctx.patternSeen[id] === ctx.round) return;
    ctx.patternSeen[id] = ctx.round;
    for (let i = this.needStart[id]!, end = this.needStart[id + 1]!; i < end; i++) this.addCandidate(this.needers[i]!);
  }

  private addCandidate(rule: number): void {
    if (this.ruleSeen[rule] === this.ctx.round) return;
    this.ruleSeen[rule] = this.ctx.round;
    this.candidates[this.candidateCount++] = rule;
  }

  /** Keyword hits and the always-evaluated rules, merged into one list in evaluation order. */
  private mergeCandidates(): Int32Array {
    const n = this.candidateCount;
    const hits = this.candidates;
    if (n > 1) {
      if (n <= 32) {
        for (let i = 1; i < n; i++) {
          const v = hits[i]!;
          let j = i - 1;
          while (j >= 0 && hits[j]! > v) {
            hits[j + 1] = hits[j]!;
            j--;
          }
          hits[j + 1] = v;
        }
      } else {
        hits.subarray(0, n).sort();
      }
    }
    const always = this.unindexed;
    if (always.length === 0) return hits.subarray(0, n);
    const out = this.merged;
    let i = 0, j = 0, k = 0;
    while (i < n && j < always.length) out[k++] = hits[i]! < always[j]! ? hits[i++]! : always[j++]!;
    while (i < n) out[k++] = hits[i++]!;
    while (j < always.length) out[k++] = always[j++]!;
    return out.subarray(0, k);
  }
}

function actionKey(a: TagAction): string {
  return `${a.provider}\u0000${a.kind}\u0000${a.tagId}`;
}
