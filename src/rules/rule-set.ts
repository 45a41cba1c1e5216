import type { TagAction } from '../tag-operation';
import { AhoCorasick } from './aho-corasick';
import { compileWhen, keywordRuleMasks, kindBit, PatternRegistry, platformBit, type Need } from './compile-when';
import type { RuleDefinition } from './definitions';
import { KEYWORD_RULE, KIND_SHIFT, packRuleMeta, PLATFORM_SHIFT, STOP } from './rule-meta';
import type { Evaluation } from './evaluation';
import type { Condition, MatchContext, RuleEvent } from './match-context';
import { lowerCase, nfkc } from './normalize-text';
import { environmentChannelOf } from '../platforms/endpoints';
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
 * costs one pass over its text plus the rules whose keywords it contains,
 * so 10,000 keyword rules cost about what 10 do.
 *
 * What evaluation reads per rule is kept in flat arrays indexed by position in
 * evaluation order (with 10,000 rules, cache misses are most of the cost).
 * Evaluation reuses one scratch context; that is safe because it is synchronous
 * and never re-enters itself. Building and evaluating share those private
 * arrays, which is why they stay in one (longer) file.
 */
export class RuleSet {
  /** Every rule, disabled ones included, in evaluation order. */
  readonly rules: readonly CompiledRule[];
  /** The rule files the set was loaded from (relative to the working directory). */
  readonly files: readonly string[];

  private readonly ids: string[];
  /**
   * Per rule, packed so one read answers most questions: STOP, KEYWORD_RULE, and for
   * keyword rules (see keywordRuleMasks) the platform and kind masks that decide them
   * once one of their keywords has been seen.
   */
  private readonly meta: Int32Array;
  /** Rule r's actions are distinct-action numbers actionStart[r] … actionStart[r + 1] - 1 of actionIds. */
  private readonly actionStart: Int32Array;
  private readonly actionIds: Int32Array;
  /** Distinct (provider, kind, tag, account, add/remove, lifetime) actions; tag numbers equal when (provider, kind, tag, account) are. */
  private readonly actionObjects: TagAction[] = [];
  private readonly actionTag: Int32Array;
  private readonly conditions: Condition[];

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
  private readonly order: Int32Array;
  private readonly ctx: MatchContext;
  private readonly onFolded: (localId: number) => void;
  private readonly onCased: (localId: number) => void;

  constructor(definitions: readonly RuleDefinition[], files: readonly string[] = []) {
    // Descending priority; Array.prototype.sort is stable, so ties keep file-then-position order.
    const ordered = [...definitions].sort((a, b) => b.priority - a.priority);
    const n = ordered.length;
    const patterns = new PatternRegistry();
    const clocks = new Map<string, ZoneClock>();
    const clockFor = (tz: string) => {
      let c = clocks.get(tz);
      if (!c) clocks.set(tz, (c = new ZoneClock(tz)));
      return c;
    };
    const needs: (Need | undefined)[] = [];
    this.ids = [];
    this.conditions = [];
    this.meta = new Int32Array(n);
    this.actionStart = new Int32Array(n + 1);
    const actionIds: number[] = [];
    const actionNumbers = new Map<string, number>();
    const tagNumbers = new Map<string, number>();
    const actionTag: number[] = [];
    this.rules = ordered.map((d, i) => {
      const compiled = compileWhen(d.when, { patterns, clockFor });
      this.conditions.push(compiled.condition);
      needs.push(compiled.need);
      const masks = keywordRuleMasks(d.when);
      this.meta[i] = packRuleMeta(d.stop, masks);
      const actions = Object.freeze(d.then.map((a) => Object.freeze({ ...a })));
      for (const a of actions) {
        // A tag named in another account is another tag: both apply.
        const tagKey = JSON.stringify([a.provider, a.kind, a.tagId, a.account ?? null]);
        // An add with a lifetime is its own action (it names its rule): rules that add one tag
        // for different lifetimes, or for none, must each hand out their own.
        const key = `${a.action}${tagKey}${a.lifetime ? JSON.stringify(a.lifetime) : ''}`;
        let number = actionNumbers.get(key);
        if (number === undefined) {
          let tag = tagNumbers.get(tagKey);
          if (tag === undefined) tagNumbers.set(tagKey, (tag = tagNumbers.size));
          actionNumbers.set(key, (number = this.actionObjects.length));
          this.actionObjects.push(a);
          actionTag.push(tag);
        }
        actionIds.push(number);
      }
      this.actionStart[i + 1] = actionIds.length;
      this.ids.push(d.id);
      return Object.freeze({
        id: d.id,
        file: d.file,
        line: d.line,
        column: d.column,
        ...(d.description !== undefined ? { description: d.description } : {}),
        enabled: d.enabled,
        priority: d.priority,
        stop: d.stop,
        actions,
        fingerprint: JSON.stringify([d.enabled, d.priority, d.stop, d.when, d.then]),
        definition: d,
      });
    });
    this.files = [...files];
    this.actionIds = Int32Array.from(actionIds);
    this.actionTag = Int32Array.from(actionTag);

    this.foldedIndex = new AhoCorasick(patterns.folded);
    this.casedIndex = new AhoCorasick(patterns.cased);
    this.foldedIds = Int32Array.from(patterns.foldedIds);
    this.casedIds = Int32Array.from(patterns.casedIds);

    const byPattern: number[][] = Array.from({ length: patterns.count }, () => []);
    const unindexed: number[] = [];
    needs.forEach((need, rule) => {
      if (!ordered[rule]!.enabled) return;
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
    this.ruleSeen = new Int32Array(n);
    this.candidates = new Int32Array(n);
    this.order = new Int32Array(n);

    this.ctx = {
      platform: 'line',
      channel: '',
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

  /** Which enabled rules match `event`, in evaluation order, and what they ask for (see `evaluate`). */
  evaluate(event: RuleEvent): Evaluation {
    const count = this.prepare(event);
    const ctx = this.ctx;
    const order = this.order;
    const platform = platformBit(event.platform) << PLATFORM_SHIFT;
    const kind = kindBit(event.kind) << KIND_SHIFT;
    const matched: string[] = [];
    const actions: TagAction[] = [];
    // Tags acted on so far; a handful per event, so a list beats a Set.
    const taken: number[] = [];
    for (let n = 0; n < count; n++) {
      const rule = order[n]!;
      const meta = this.meta[rule]!;
      const holds = meta & KEYWORD_RULE ? (meta & platform) !== 0 && (meta & kind) !== 0 : this.conditions[rule]!(ctx);
      if (!holds) continue;
      matched.push(this.ids[rule]!);
      for (let i = this.actionStart[rule]!, end = this.actionStart[rule + 1]!; i < end; i++) {
        const action = this.actionIds[i]!;
        const tag = this.actionTag[action]!;
        if (taken.includes(tag)) continue;
        taken.push(tag);
        actions.push(this.actionObjects[action]!);
      }
      if (meta & STOP) break;
    }
    return { matched, actions };
  }

  /** Checks one rule's `when` alone (enabled, priority and stop ignored): what examples test. */
  whenHolds(index: number, event: RuleEvent): boolean {
    this.prepare(event);
    return this.conditions[index]!(this.ctx);
  }

  /**
   * Fills the scratch context for `event` and puts the rules worth evaluating,
   * in evaluation order, at the start of `order`; returns how many there are.
   */
  private prepare(event: RuleEvent): number {
    const ctx = this.ctx;
    if (ctx.round >= 0x7ffffffe) {
      // Round stamps are about to overflow: start them again.
      ctx.patternSeen.fill(0);
      this.ruleSeen.fill(0);
      ctx.round = 0;
    }
    ctx.round++;
    ctx.platform = event.platform;
    ctx.channel = event.channel ?? environmentChannelOf(event.platform);
    ctx.kind = event.kind;
    ctx.timestamp = event.timestamp;
    ctx.hasData = event.postbackData !== undefined;
    ctx.data = event.postbackData ?? '';
    ctx.hasText = event.text !== undefined;
    this.candidateCount = 0;
    if (event.text !== undefined) {
      ctx.textCased = nfkc(event.text).trim();
      ctx.textFolded = lowerCase(ctx.textCased);
      this.foldedIndex.forEachMatch(ctx.textFolded, this.onFolded);
      this.casedIndex.forEachMatch(ctx.textCased, this.onCased);
    } else {
      ctx.textCased = ctx.textFolded = '';
    }
    if (event.postbackData !== undefined) {
      const rules = this.byPostbackData.get(event.postbackData);
      if (rules) for (const r of rules) this.addCandidate(r);
    }
    return this.mergeCandidates();
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

  /** Keyword hits (sorted) and the always-evaluated rules, merged into `order`. */
  private mergeCandidates(): number {
    const n = this.candidateCount;
    const hits = this.candidates;
    if (n > 32) hits.subarray(0, n).sort();
    else {
      for (let i = 1; i < n; i++) {
        const v = hits[i]!;
        let j = i - 1;
        while (j >= 0 && hits[j]! > v) {
          hits[j + 1] = hits[j]!;
          j--;
        }
        hits[j + 1] = v;
      }
    }
    const always = this.unindexed;
    const out = this.order;
    let i = 0, j = 0, k = 0;
    while (i < n && j < always.length) out[k++] = hits[i]! < always[j]! ? hits[i++]! : always[j++]!;
    while (i < n) out[k++] = hits[i++]!;
    while (j < always.length) out[k++] = always[j++]!;
    return k;
  }
}
