import { EVENT_KINDS, PLATFORMS, type EventKind } from '../chat-event';
import type { PostbackDefinition, TextDefinition, WhenDefinition } from './definitions';
import type { Condition, MatchContext } from './match-context';
import { compileRegex, type LinearRegex } from './linear-regex';
import { normalizeRegexSource, normalizeText, regexFlags } from './normalize-text';
import { compileSchedule, scheduleHolds, ZoneClock } from './schedule';

/**
 * Every literal pattern of every rule, normalised, each with one id. Patterns
 * compared case-insensitively and case-sensitively are kept apart, since they
 * are looked for in differently normalised text.
 */
export class PatternRegistry {
  readonly folded: string[] = [];
  readonly cased: string[] = [];
  /** The global id of each entry of `folded` / `cased`. */
  readonly foldedIds: number[] = [];
  readonly casedIds: number[] = [];
  count = 0;
  private readonly ids = new Map<string, number>();

  idOf(normalised: string, caseSensitive: boolean): number {
    const key = (caseSensitive ? 'C' : 'F') + normalised;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.count++;
      this.ids.set(key, id);
      if (caseSensitive) {
        this.cased.push(normalised);
        this.casedIds.push(id);
      } else {
        this.folded.push(normalised);
        this.foldedIds.push(id);
      }
    }
    return id;
  }
}

/**
 * A disjunction that must hold for a condition to hold: at least one of these
 * patterns occurs in the text, or the postback data is one of these. The rule
 * set uses it to skip rules whose keywords are absent without evaluating them.
 * `undefined`: no such shortcut (the rule is always evaluated).
 */
export interface Need {
  patterns: number[];
  postbackData: string[];
}

export interface CompiledWhen {
  condition: Condition;
  need: Need | undefined;
}

export interface CompileWhenDeps {
  patterns: PatternRegistry;
  clockFor(timeZone: string): ZoneClock;
}

const always: Condition = () => true;

export function compileWhen(when: WhenDefinition, deps: CompileWhenDeps): CompiledWhen {
  // Cheap checks first: most events are turned away by platform or kind before any text work.
  const parts: CompiledWhen[] = [];
  if (when.platform) {
    let mask = 0;
    for (const p of when.platform) mask |= platformBit(p);
    parts.push({ condition: (ctx) => (mask & platformBit(ctx.platform)) !== 0, need: undefined });
  }
  if (when.event) {
    // 'other' is not a kind rules can name, so its bit is never in the mask.
    let mask = 0;
    for (const k of when.event) mask |= kindBit(k);
    parts.push({ condition: (ctx) => (mask & kindBit(ctx.kind)) !== 0, need: undefined });
  }
  if (when.postback) parts.push(compilePostback(when.postback));
  if (when.text) parts.push(compileText(when.text, deps.patterns));
  if (when.schedule) {
    const schedule = compileSchedule(when.schedule);
    const clock = deps.clockFor(schedule.timeZone);
    parts.push({ condition: (ctx) => scheduleHolds(schedule, clock.localMs(ctx.timestamp)), need: undefined });
  }
  if (when.any) {
    const subs = when.any.map((w) => compileWhen(w, deps));
    const conditions = subs.map((s) => s.condition);
    parts.push({
      condition: (ctx) => {
        for (const c of conditions) if (c(ctx)) return true;
        return false;
      },
      need: unionOfNeeds(subs.map((s) => s.need)),
    });
  }
  if (when.all) parts.push(allOf(when.all.map((w) => compileWhen(w, deps))));
  if (when.not) {
    const inner = compileWhen(when.not, deps).condition;
    parts.push({ condition: (ctx) => !inner(ctx), need: undefined });
  }
  return allOf(parts);
}

function allOf(parts: CompiledWhen[]): CompiledWhen {
  if (parts.length === 0) return { condition: always, need: undefined };
  if (parts.length === 1) return parts[0]!;
  const conditions = parts.map((p) => p.condition);
  const need = narrowestNeed(parts.map((p) => p.need));
  if (conditions.length === 2) {
    // The common shape (say, event + text): one call less and no loop.
    const [a, b] = conditions as [Condition, Condition];
    return { condition: (ctx) => a(ctx) && b(ctx), need };
  }
  return {
    condition: (ctx) => {
      for (const c of conditions) if (!c(ctx)) return false;
      return true;
    },
    need,
  };
}

/** Every part must hold, so any one part's need is a need of the whole; the narrowest skips most. */
function narrowestNeed(needs: (Need | undefined)[]): Need | undefined {
  let best: Need | undefined;
  for (const n of needs) {
    if (n && (!best || size(n) < size(best))) best = n;
  }
  return best;
}

/** One of the alternatives must hold, so the whole needs one of their needs; unknown if any has none. */
function unionOfNeeds(needs: (Need | undefined)[]): Need | undefined {
  const out: Need = { patterns: [], postbackData: [] };
  for (const n of needs) {
    if (!n) return undefined;
    out.patterns.push(...n.patterns);
    out.postbackData.push(...n.postbackData);
  }
  return out;
}

function size(n: Need): number {
  return n.patterns.length + n.postbackData.length;
}

function compileText(def: TextDefinition, registry: PatternRegistry): CompiledWhen {
  const cs = def.case_sensitive;
  const ids = (list: string[] | undefined) => list?.map((p) => registry.idOf(normalizeText(p, cs), cs));
  const norm = (list: string[] | undefined) => list?.map((p) => normalizeText(p, cs));
  const contains = ids(def.contains);
  const containsAll = ids(def.contains_all);
  const equals = norm(def.equals);
  const startsWith = norm(def.starts_with);
  // equals and starts_with are decided by comparing strings, but their patterns also go
  // into the index: a text cannot equal or start with a pattern that does not occur in it.
  const equalsIds = ids(def.equals);
  const startsWithIds = ids(def.starts_with);
  const regex = def.regex === undefined ? undefined : compiledRegex(normalizeRegexSource(def.regex), regexFlags(cs));

  const condition: Condition = (ctx: MatchContext) => {
    if (!ctx.hasText) return false;
    const seen = ctx.patternSeen;
    const round = ctx.round;
    if (contains) {
      let any = false;
      for (const id of contains) if (seen[id] === round) { any = true; break; }
      if (!any) return false;
    }
    if (containsAll) for (const id of containsAll) if (seen[id] !== round) return false;
    const text = cs ? ctx.textCased : ctx.textFolded;
    if (equals && !equals.includes(text)) return false;
    if (startsWith) {
      let any = false;
      for (const p of startsWith) if (text.startsWith(p)) { any = true; break; }
      if (!any) return false;
    }
    if (regex && !regex.test(ctx.textCased)) return false;
    return true;
  };

  const candidates: Need[] = [];
  if (contains) candidates.push({ patterns: contains, postbackData: [] });
  if (containsAll) candidates.push({ patterns: containsAll.slice(0, 1), postbackData: [] });
  if (equalsIds) candidates.push({ patterns: equalsIds, postbackData: [] });
  if (startsWithIds) candidates.push({ patterns: startsWithIds, postbackData: [] });
  return { condition, need: narrowestNeed(candidates) };
}

function compilePostback(def: PostbackDefinition): CompiledWhen {
  const { equals, contains, starts_with: startsWith } = def;
  // Postback data is machine-made: compared exactly, so the regex gets no `i`.
  const regex = def.regex === undefined ? undefined : compiledRegex(def.regex, 'u');
  const condition: Condition = (ctx) => {
    if (!ctx.hasData) return false;
    const data = ctx.data;
    if (equals && !equals.includes(data)) return false;
    if (contains && !contains.some((p) => data.includes(p))) return false;
    if (startsWith && !startsWith.some((p) => data.startsWith(p))) return false;
    if (regex && !regex.test(data)) return false;
    return true;
  };
  return { condition, need: equals ? { patterns: [], postbackData: [...equals] } : undefined };
}

/** Definitions reach the compiler validated, so a regex that does not compile is a bug, not input. */
function compiledRegex(source: string, flags: 'u' | 'iu'): LinearRegex {
  const compiled = compileRegex(source, flags);
  if (!compiled.ok) throw new Error(`unvalidated regex reached the rule compiler: ${compiled.problem}`);
  return compiled.regex;
}

/** How many bits a platform mask has: one per platform of the platform list. */
export const PLATFORM_BITS = PLATFORMS.length;
/** How many bits a kind mask has: one per kind rules can name, and one for 'other'. */
export const KIND_BITS = EVENT_KINDS.length + 1;

/** Bit of an event kind in a kind mask; 'other' has one too, for rules that name no kind. */
export function kindBit(kind: EventKind | 'other'): number {
  return kind === 'other' ? 1 << EVENT_KINDS.length : 1 << EVENT_KINDS.indexOf(kind);
}

export function platformBit(platform: (typeof PLATFORMS)[number]): number {
  return 1 << PLATFORMS.indexOf(platform);
}

/**
 * The plain keyword rule, by far the most common kind: `text: { contains: … }`
 * with at most a platform and an event. For such a rule, one of its keywords
 * occurring is exactly its text condition, so once the index has found one the
 * rule holds when its platform and kind masks do. undefined for any other shape.
 */
export function keywordRuleMasks(when: WhenDefinition): { platforms: number; kinds: number } | undefined {
  const keys = Object.keys(when);
  if (!keys.every((k) => k === 'platform' || k === 'event' || k === 'text') || !when.text?.contains) return undefined;
  if (Object.keys(when.text).some((k) => k !== 'contains' && k !== 'case_sensitive')) return undefined;
  let platforms = 0;
  for (const p of when.platform ?? PLATFORMS) platforms |= platformBit(p);
  let kinds = 0;
  if (when.event) for (const k of when.event) kinds |= kindBit(k);
  else kinds = (1 << KIND_BITS) - 1;
  return { platforms, kinds };
}
