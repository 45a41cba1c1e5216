import type { z } from 'zod';
import type { Platform } from '../chat-event';
import { environmentChannelOf } from '../platforms/endpoints';
import { providerNamed } from '../providers';
import { TAG_KINDS, type TagAction, type TagKind } from '../tag-operation';
import { ENVIRONMENT_CATALOGUE, type RuleCatalogue } from './catalogue';
import { catalogueProblems } from './catalogue-problems';
import type { ExampleDefinition, RuleDefinition, WhenDefinition } from './definitions';
import { parseInstant } from './instant';
import { parseLifetime } from './lifetime';
import { neverHolding } from './never-holds';
import { issueMessage, issueTarget, toPath } from './issue-message';
import type { RuleProblem } from './problems';
import { readDefaults } from './file-defaults';
import { exampleListSchema, fileSchema, ruleSchema, whenSchema, type DefaultsInput, type RuleInput, type WhenInput } from './schema';
import { parseYamlSource, type PathSegment, type Position, type YamlSource } from './yaml-source';

export interface ParsedRuleFile {
  /** The rules that are valid on their own (duplicate ids are the loader's business). */
  rules: RuleDefinition[];
  /**
   * `rules` and the invalid rules that can still be evaluated, without their actions, for
   * their examples: a string id, and a valid `when` and examples.
   */
  evaluable: RuleDefinition[];
  /** Every well-formed id in the file, valid rule or not, for duplicate detection. */
  ids: { id: string; position: Position }[];
  problems: RuleProblem[];
  /** What holds but is likely not what was meant (a channel condition the file's default channel rules out). */
  warnings: RuleProblem[];
}

const ID = /^[\p{L}\p{N}_-]+$/u;

function isTagKind(value: unknown): value is TagKind {
  return (TAG_KINDS as readonly unknown[]).includes(value);
}

/**
 * Parses and validates one rule file. `file` is the name problems are reported under.
 * With a `catalogue`, the channels and accounts the file names must be in it; without
 * one (an editor's view of a single file) only their form is checked.
 */
export function parseRuleFile(text: string, file: string, catalogue?: RuleCatalogue): ParsedRuleFile {
  const out: ParsedRuleFile = { rules: [], evaluable: [], ids: [], problems: [], warnings: [] };
  const source = parseYamlSource(text);
  const problemAt = (position: Position, message: string) =>
    out.problems.push({ file, line: position.line, column: position.column, message });
  /** `whole`: what the value at `base` is called, for issues about all of it. */
  const report = (base: PathSegment[], issues: readonly z.core.$ZodIssue[], whole: string) => {
    for (const issue of issues) {
      problemAt(source.locate([...base, ...toPath(issue.path)], issueTarget(issue)), issueMessage(issue, whole));
    }
  };

  for (const e of source.syntaxErrors) problemAt(e.position, `YAML syntax error: ${e.message}`);
  if (source.syntaxErrors.length) return out;
  if (source.value === null || source.value === undefined) {
    problemAt({ line: 1, column: 1 }, 'the file is empty: a rule file holds a top-level "rules:" list');
    return out;
  }

  const top = fileSchema.safeParse(source.value, { reportInput: true });
  if (!top.success) report([], top.error.issues, 'a rule file');
  const topValue = source.value as { defaults?: unknown; rules?: unknown };

  const { defaults, broken, issues: defaultsIssues } = readDefaults(topValue.defaults);
  report(['defaults'], defaultsIssues, '"defaults"');
  if (catalogue && topValue.defaults !== undefined && topValue.defaults !== null) {
    for (const [path, message] of catalogueProblems({ when: { channel: (topValue.defaults as { channel?: unknown }).channel } }, undefined, catalogue)) {
      problemAt(source.locate(['defaults', ...path.slice(1)]), message);
    }
  }
  // A broken default timezone or channel changes what every `when` of the file means: none is evaluated.
  const whensKnown = !broken.has('timezone') && !broken.has('channel');

  const rules = Array.isArray(topValue.rules) ? topValue.rules : [];
  rules.forEach((raw, index) => {
    const base: PathSegment[] = ['rules', index];
    const before = out.problems.length;
    const rawId = (raw as { id?: unknown } | null)?.id;
    if (typeof rawId === 'string' && ID.test(rawId)) out.ids.push({ id: rawId, position: source.locate([...base, 'id']) });
    // Checked on the raw value, so they are reported even when the rule has other problems;
    // what needs the default provider not when that is broken (already reported, the likely cause).
    const actionIssues = broken.has('provider') ? [] : actionProblems(raw, defaults);
    for (const [path, message] of actionIssues) problemAt(source.locate([...base, ...path]), message);
    const catalogueIssues = catalogue ? catalogueProblems(raw, broken.has('provider') ? undefined : defaults.provider, catalogue) : [];
    for (const [path, message] of catalogueIssues) problemAt(source.locate([...base, ...path]), message);
    const parsed = ruleSchema.safeParse(raw, { reportInput: true });
    // An action whose kind the file's default provider does not have is said once: the schema,
    // which cannot see the default, would add its own reading of that kind (MantaGo's, for a
    // BotBonnie action) on its remove_tag or for.
    const kindRefused = new Set(actionIssues.filter(([path]) => path[path.length - 1] === 'kind').map(([path]) => JSON.stringify(path.slice(0, -1))));
    const readsKind = (i: z.core.$ZodIssue) => (i as { params?: { readsKind?: boolean } }).params?.readsKind === true;
    const issues = parsed.success ? [] : parsed.error.issues.filter((i) => !(readsKind(i) && kindRefused.has(JSON.stringify(toPath(i.path).slice(0, -1)))));
    if (!parsed.success) report(base, issues, 'a rule');
    const resolve = (r: RuleInput) => resolveRule(r, defaults, source, base, file, catalogue ?? ENVIRONMENT_CATALOGUE);
    if (parsed.success && out.problems.length === before && broken.size === 0) {
      const rule = resolve(parsed.data);
      out.rules.push(rule);
      out.evaluable.push(rule);
      for (const [path, message] of [...shadowedChannels(raw, defaults.channel), ...neverHolding(raw, { catalogue: catalogue ?? ENVIRONMENT_CATALOGUE, defaultChannels: defaults.channel })]) {
        const at = source.locate([...base, ...path]);
        out.warnings.push({ file, line: at.line, column: at.column, message });
      }
    } else if (whensKnown) {
      // Its examples still run when its `when` and examples are sound (a bad action or a
      // duplicate id does not change what the rule matches), so their failures are reported too.
      const evaluable = evaluablePart(raw);
      if (evaluable) out.evaluable.push(resolve(evaluable));
    }
  });
  return out;
}

/**
 * `defaults.channel` holds for every rule that names no channel at the top of its `when`, also
 * for one that names channels inside `any`, `all` or `not`: such a condition on a channel the
 * default leaves out can never hold (`any: [{channel: a}, {channel: b}]` under a default of `c`
 * matches nothing). Said as warnings, at each such channel; paths are relative to the rule.
 */
function shadowedChannels(rawRule: unknown, defaultChannels: readonly string[] | undefined): [PathSegment[], string][] {
  const when = (rawRule as { when?: unknown } | null)?.when;
  if (defaultChannels === undefined || typeof when !== 'object' || when === null || (when as { channel?: unknown }).channel !== undefined) return [];
  const allowed = new Set(defaultChannels);
  const found: [PathSegment[], string][] = [];
  const walk = (node: unknown, path: PathSegment[], nested: boolean): void => {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return;
    const { channel, any, all, not } = node as { channel?: unknown; any?: unknown; all?: unknown; not?: unknown };
    if (nested && channel !== undefined) {
      const ids = Array.isArray(channel) ? channel : [channel];
      ids.forEach((id, i) => {
        if (typeof id !== 'string' || allowed.has(id)) return;
        found.push([
          [...path, 'channel', ...(Array.isArray(channel) ? [i] : [])],
          `channel ${JSON.stringify(id)} here is never the event's channel: this file's defaults.channel (${defaultChannels.join(', ')}) holds for the rule too, since it names no channel at the top of its when; write "channel:" at the top of the when to replace the default`,
        ]);
      });
    }
    for (const [key, list] of [['any', any], ['all', all]] as const) if (Array.isArray(list)) list.forEach((c, i) => walk(c, [...path, key, i], true));
    walk(not, [...path, 'not'], true);
  };
  walk(when, ['when'], false);
  return found;
}

/** An invalid rule's id, `when` and examples, when they are sound (its actions left out), else undefined. */
function evaluablePart(raw: unknown): RuleInput | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const { id, when, examples } = raw as { id?: unknown; when?: unknown; examples?: unknown };
  if (typeof id !== 'string') return undefined;
  const w = whenSchema.safeParse(when);
  const e = exampleListSchema.safeParse(examples);
  return w.success && e.success ? { id, when: w.data, then: [], ...(e.data ? { examples: e.data } : {}) } : undefined;
}

/**
 * What needs the file's defaults to be judged: an action with no provider of
 * its own and none by default, and a BotBonnie (by default) action that asks
 * for a client tag. Paths are relative to the rule.
 */
function actionProblems(rawRule: unknown, defaults: DefaultsInput): [PathSegment[], string][] {
  const then = (rawRule as { then?: unknown } | null)?.then;
  const actions = Array.isArray(then) ? then : then === undefined ? [] : [then];
  const problems: [PathSegment[], string][] = [];
  actions.forEach((a, i) => {
    if (typeof a !== 'object' || a === null || Array.isArray(a)) return;
    const { provider, kind } = a as { provider?: unknown; kind?: unknown };
    if (provider !== undefined) return;
    if (!defaults.provider) {
      problems.push([
        ['then', i],
        'the action has no provider: add "provider: mantago" (or botbonnie), or "defaults: { provider: … }" at the top of the file',
      ]);
    } else if (isTagKind(kind) && !providerNamed(defaults.provider).kinds.includes(kind)) {
      const { title } = providerNamed(defaults.provider);
      problems.push([['then', i, 'kind'], `kind ${kind} does not apply: ${title} (this file's default provider) has no ${kind} tags`]);
    }
  });
  return problems;
}

/** Applies the file's defaults; everything it relies on has been validated. */
function resolveRule(r: RuleInput, defaults: DefaultsInput, source: YamlSource, base: PathSegment[], file: string, catalogue: RuleCatalogue): RuleDefinition {
  const defaultTimezone = defaults.timezone ?? 'UTC';
  const when = resolveWhen(r.when, defaultTimezone);
  // `defaults.channel` holds for every rule of the file that names no channel of its own (at the top of its `when`).
  if (when.channel === undefined && defaults.channel !== undefined) when.channel = [...new Set(defaults.channel)];
  const then: TagAction[] = r.then.map((a) => {
    const provider = (a.provider ?? defaults.provider)!;
    const lifetime = a.for === undefined ? undefined : parseLifetime(a.for);
    return {
      action: a.add_tag !== undefined ? 'add' : 'remove',
      provider,
      // A provider's first kind is its default; one with a single kind always carries it.
      kind: a.kind !== undefined && providerNamed(provider).kinds.includes(a.kind) ? a.kind : providerNamed(provider).kinds[0],
      tagId: (a.add_tag ?? a.remove_tag)!,
      ...(lifetime && 'ms' in lifetime ? { lifetime: { ms: lifetime.ms, text: a.for!, rule: r.id } } : {}),
      ...(a.account !== undefined ? { account: a.account } : {}),
    };
  });

  // An example's `at` without an offset is read where the rule's schedules are.
  const zones = new Set<string>();
  collectTimezones(when, zones);
  const exampleZone = zones.size === 1 ? [...zones][0]! : defaultTimezone;
  const examples: ExampleDefinition[] = (r.examples ?? []).map((e, i) => {
    const position = source.locate([...base, 'examples', i]);
    const { platform, channel } = exampleWhere(e, when.channel, catalogue);
    return {
      ...(e.text !== undefined ? { text: e.text } : {}),
      event: e.event ?? 'message',
      ...(e.data !== undefined ? { data: e.data } : {}),
      platform,
      channel,
      ...(e.at !== undefined ? { at: parseInstant(e.at, exampleZone)! } : {}),
      expect: e.expect,
      line: position.line,
      column: position.column,
    };
  });

  const idPosition = source.locate([...base, 'id']);
  return {
      id: r.id,
      ...(typeof r.description === 'string' ? { description: r.description } : {}),
      enabled: r.enabled ?? true,
      priority: r.priority ?? 0,
      stop: r.stop ?? false,
      when,
      then,
      examples,
    file,
    line: idPosition.line,
    column: idPosition.column,
  };
}

/**
 * Where an example's event comes in when it does not say: a channel given alone brings
 * its platform; otherwise the platform (default line) comes in on the rule's first
 * channel that receives it, else on the environment's channel of the platform.
 */
function exampleWhere(
  e: { platform?: Platform | undefined; channel?: string | undefined },
  ruleChannels: readonly string[] | undefined,
  catalogue: RuleCatalogue,
): { platform: Platform; channel: string } {
  const platformsOf = (id: string) => catalogue.channels.get(id);
  const platform = e.platform ?? platformsOf(e.channel ?? ruleChannels?.[0] ?? '')?.[0] ?? 'line';
  if (e.channel !== undefined) return { platform, channel: e.channel };
  const own = ruleChannels?.find((id) => platformsOf(id)?.includes(platform) ?? true);
  return { platform, channel: own ?? environmentChannelOf(platform) };
}

function resolveWhen(w: WhenInput, defaultTimezone: string): WhenDefinition {
  const out: WhenDefinition = {};
  if (w.platform) out.platform = w.platform;
  if (w.channel) out.channel = [...new Set(w.channel)];
  if (w.event) out.event = w.event;
  if (w.text) {
    const t = w.text;
    out.text = {
      ...(t.contains ? { contains: t.contains } : {}),
      ...(t.contains_all ? { contains_all: t.contains_all } : {}),
      ...(t.equals ? { equals: t.equals } : {}),
      ...(t.starts_with ? { starts_with: t.starts_with } : {}),
      ...(t.regex !== undefined ? { regex: t.regex } : {}),
      case_sensitive: t.case_sensitive ?? false,
    };
  }
  if (w.postback) {
    const p = w.postback;
    out.postback = {
      ...(p.equals ? { equals: p.equals } : {}),
      ...(p.contains ? { contains: p.contains } : {}),
      ...(p.starts_with ? { starts_with: p.starts_with } : {}),
      ...(p.regex !== undefined ? { regex: p.regex } : {}),
    };
  }
  if (w.schedule) {
    const s = w.schedule;
    out.schedule = {
      ...(s.from !== undefined ? { from: s.from } : {}),
      ...(s.until !== undefined ? { until: s.until } : {}),
      ...(s.days ? { days: [...new Set(s.days)] } : {}),
      ...(s.hours !== undefined ? { hours: s.hours } : {}),
      timezone: s.timezone ?? defaultTimezone,
    };
  }
  if (w.any) out.any = w.any.map((x) => resolveWhen(x, defaultTimezone));
  if (w.all) out.all = w.all.map((x) => resolveWhen(x, defaultTimezone));
  if (w.not) out.not = resolveWhen(w.not, defaultTimezone);
  return out;
}

function collectTimezones(w: WhenDefinition, into: Set<string>): void {
  if (w.schedule) into.add(w.schedule.timezone);
  for (const sub of [...(w.any ?? []), ...(w.all ?? []), ...(w.not ? [w.not] : [])]) collectTimezones(sub, into);
}
