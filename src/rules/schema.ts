import { z } from 'zod';
import { EVENT_KINDS, PLATFORMS } from '../chat-event';
import { providerNamed } from '../providers';
import { PROVIDERS, TAG_KINDS, type Provider, type TagKind } from '../tag-operation';
import { didYouMean } from './problems';
import { knownKeys } from './known-keys';
import { compileRegex } from './linear-regex';
import { normalizeRegexSource, normalizeText, regexFlags } from './normalize-text';
import { DAY_NAMES, isValidTimezone, knownTimezones, parseHours, parseLocalTime } from './schedule';
import { parseInstant } from './instant';
import { parseLifetime } from './lifetime';

/**
 * The shape of a rule file, as zod schemas over the plain values of the YAML
 * (every scalar a string except priority/enabled/stop/case_sensitive).
 *
 * Objects reject unknown keys through `knownKeys` (known-keys.ts).
 */
export { AT_KEY } from './known-keys';

/**
 * What the JSON Schema for editors (json-schema.ts) needs to know about schemas whose
 * input zod cannot describe by itself: a preprocess step accepts more than its output.
 */
export type JsonShape =
  | { kind: 'one-or-many' }
  | { kind: 'postback-shorthand' }
  | { kind: 'any-case'; values: readonly string[] };
export const jsonShapes = new WeakMap<z.ZodType, JsonShape>();

/** One value or a list of them; a single value reads as a list of one. */
function oneOrMany<T extends z.ZodType>(item: T) {
  // `key:` with nothing after it stays nothing ("needs a value"), not a list of one empty item.
  const schema = z.preprocess((v) => (Array.isArray(v) || v === undefined || v === null ? v : [v]), z.array(item).min(1));
  jsonShapes.set(schema, { kind: 'one-or-many' });
  return schema;
}

/** A literal pattern; after normalisation it must still say something. */
const pattern = z.string().refine((s) => normalizeText(s, true) !== '', {
  message: 'an empty pattern would match every text',
});
const nonEmptyPart = z.string().refine((s) => s.length > 0, { message: 'an empty pattern would match all postback data' });
const nonEmptyWhole = z.string().refine((s) => s.length > 0, { message: 'an empty value would match only empty postback data: write the data to match' });

/** Compiling here (not only when the rule set is built) puts the problem at the regex's FILE:LINE:COLUMN. */
const regexProblem = (source: string, flags: 'u' | 'iu'): string | undefined => {
  const compiled = compileRegex(source, flags);
  return compiled.ok ? undefined : compiled.problem;
};

export const textSchema = knownKeys(
  {
    contains: oneOrMany(pattern).optional(),
    contains_all: oneOrMany(pattern).optional(),
    equals: oneOrMany(pattern).optional(),
    starts_with: oneOrMany(pattern).optional(),
    regex: z.string().optional(),
    case_sensitive: z.boolean().optional(),
  },
  'text',
).superRefine(
  (t, ctx) => {
    if (typeof t?.regex !== 'string') return;
    const problem = regexProblem(normalizeRegexSource(t.regex), regexFlags(t.case_sensitive === true));
    if (problem) ctx.addIssue({ code: 'custom', path: ['regex'], message: problem });
  },
  { when: () => true },
);

export const postbackSchema = z.preprocess(
  // `postback: action=subscribe` is shorthand for `postback: { equals: action=subscribe }`.
  (v) => (typeof v === 'string' || Array.isArray(v) ? { equals: v } : v),
  knownKeys(
    {
      equals: oneOrMany(nonEmptyWhole).optional(),
      contains: oneOrMany(nonEmptyPart).optional(),
      starts_with: oneOrMany(nonEmptyPart).optional(),
      regex: z
        .string()
        .superRefine((source, ctx) => {
          const problem = regexProblem(source, 'u');
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        })
        .optional(),
    },
    'postback',
  ),
);
jsonShapes.set(postbackSchema, { kind: 'postback-shorthand' });

const timezoneSchema = z.string().superRefine((tz, ctx) => {
  if (!isValidTimezone(tz)) {
    ctx.addIssue({
      code: 'custom',
      message: `unknown timezone ${JSON.stringify(tz)}${didYouMean(tz, knownTimezones()) || '; use an IANA name such as Asia/Taipei or UTC'}`,
    });
  }
});

const localTime = (key: string) =>
  z.string().refine((s) => parseLocalTime(s) !== undefined, {
    message: `badly formed ${key}: use YYYY-MM-DD, YYYY-MM-DDTHH:MM or YYYY-MM-DDTHH:MM:SS (a real date and time)`,
  });

const daySchema = z.preprocess((d) => (typeof d === 'string' ? d.toLowerCase() : d), z.enum(DAY_NAMES));
jsonShapes.set(daySchema, { kind: 'any-case', values: DAY_NAMES });

export const scheduleSchema = knownKeys(
  {
    from: localTime('from').optional(),
    until: localTime('until').optional(),
    days: oneOrMany(daySchema).optional(),
    hours: z
      .string()
      .superRefine((s, ctx) => {
        if (parseHours(s) !== undefined) return;
        // Well formed but empty: start and end are the same time.
        const same = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/.exec(s.replace(/\s+/g, ''));
        const empty = same !== null && Number(same[1]) * 60 + Number(same[2]) === Number(same[3]) * 60 + Number(same[4]) && Number(same[1]) < 24 && Number(same[2]) < 60;
        ctx.addIssue({
          code: 'custom',
          message: empty
            ? `hours "${s.trim()}" are empty (the end is the start): write the hours when the rule may match, e.g. "09:00-18:00", or leave hours out for all day`
            : 'badly formed hours: use "HH:MM-HH:MM" (start inclusive, end exclusive; e.g. "22:00-06:00" wraps past midnight)',
        });
      })
      .optional(),
    timezone: timezoneSchema.optional(),
  },
  'schedule',
).superRefine(
  (s, ctx) => {
    const from = typeof s?.from === 'string' ? parseLocalTime(s.from) : undefined;
    const until = typeof s?.until === 'string' ? parseLocalTime(s.until) : undefined;
    if (from && until && from.first > until.last) {
      ctx.addIssue({ code: 'custom', path: ['until'], message: `until (${s.until}) is before from (${s.from}): the schedule never holds` });
    }
  },
  { when: () => true },
);

/** A channel id or account name: the channels file's (letters, digits, '-', '_'), or the environment's. */
const channelName = z.string().regex(/^[A-Za-z0-9_-]+$/, { message: 'a channel id holds only letters (a-z, A-Z), digits, "-" and "_"' });
const accountName = z.string().regex(/^[A-Za-z0-9_-]+$/, { message: 'an account name holds only letters (a-z, A-Z), digits, "-" and "_"' });

/** A `when` block as written; recursive through any / all / not. */
export interface WhenInput {
  platform?: (typeof PLATFORMS)[number][];
  channel?: string[];
  event?: (typeof EVENT_KINDS)[number][];
  text?: z.output<typeof textSchema>;
  postback?: z.output<typeof postbackSchema>;
  schedule?: z.output<typeof scheduleSchema>;
  any?: WhenInput[];
  all?: WhenInput[];
  not?: WhenInput;
}

export const whenSchema: z.ZodType<WhenInput> = z.lazy(() =>
  knownKeys(
    {
      platform: oneOrMany(z.enum(PLATFORMS)).optional(),
      channel: oneOrMany(channelName).optional(),
      event: oneOrMany(z.enum(EVENT_KINDS)).optional(),
      text: textSchema.optional(),
      postback: postbackSchema.optional(),
      schedule: scheduleSchema.optional(),
      any: z.array(whenSchema).min(1).optional(),
      all: z.array(whenSchema).min(1).optional(),
      not: whenSchema.optional(),
    },
    'when',
  ),
);

const tagId = z.string().refine((s) => s.trim() !== '', { message: 'a tag id must not be empty' });

export const actionSchema = knownKeys(
  {
    add_tag: tagId.optional(),
    remove_tag: tagId.optional(),
    provider: z.enum(PROVIDERS).optional(),
    kind: z.enum(TAG_KINDS).optional(),
    for: z.string().optional(),
    account: accountName.optional(),
  },
  'an action',
).superRefine(
  (a, ctx) => {
    if (typeof a !== 'object' || a === null) return;
    if (a.add_tag === undefined && a.remove_tag === undefined) {
      ctx.addIssue({ code: 'custom', message: 'an action needs add_tag or remove_tag' });
    } else if (a.add_tag !== undefined && a.remove_tag !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'an action has add_tag or remove_tag, not both: write two actions' });
    }
    const permanent = typeof a.kind !== 'string' ? undefined : permanence(a.kind, a.provider);
    if (permanent && a.remove_tag !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['kind'], message: `remove_tag cannot be used with kind: ${a.kind}: ${permanent}`, params: { readsKind: true } });
    }
    const without = a.kind === undefined || a.provider === undefined || !(PROVIDERS as readonly string[]).includes(a.provider) ? undefined : kindMissing(a.kind, a.provider as Provider);
    if (without) ctx.addIssue({ code: 'custom', path: ['kind'], message: without });
    if (typeof a.for === 'string') {
      const lifetime = parseLifetime(a.for);
      if ('problem' in lifetime) ctx.addIssue({ code: 'custom', path: ['for'], message: lifetime.problem });
      else if (a.remove_tag !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['for'], message: 'for applies to add_tag only: it says how long an added tag stays' });
      } else if (permanent) {
        ctx.addIssue({ code: 'custom', path: ['for'], message: `for cannot be used with kind: ${a.kind}: ${permanent}`, params: { readsKind: true } });
      }
    }
  },
  { when: () => true },
);

/**
 * Why tags of `kind` can never be taken off again (the provider descriptors' `permanentKinds`):
 * at the action's provider, or — with none named here (the file's default applies) — at every
 * provider that has the kind. Undefined when they can be removed.
 */
function permanence(kind: string, provider: string | undefined): string | undefined {
  const named = provider !== undefined && (PROVIDERS as readonly string[]).includes(provider) ? [provider as Provider] : PROVIDERS.filter((p) => providerNamed(p).kinds.includes(kind as TagKind));
  const reasons = named.map((p) => ({ p: providerNamed(p), why: providerNamed(p).permanentKinds?.[kind as TagKind] }));
  if (reasons.length === 0 || reasons.some((r) => r.why === undefined)) return undefined;
  return reasons.map((r) => `${r.p.title} ${kind} tags cannot be removed (${r.why})`).join('; ');
}

/** A kind the provider does not have: which providers have it. */
function kindMissing(kind: string, provider: Provider): string | undefined {
  const p = providerNamed(provider);
  if (!(TAG_KINDS as readonly string[]).includes(kind) || p.kinds.includes(kind as TagKind)) return undefined;
  const having = PROVIDERS.filter((x) => providerNamed(x).kinds.includes(kind as TagKind)).map((x) => providerNamed(x).title);
  return `kind applies to ${having.join(' and ')} only: ${p.title} has no ${kind} tags`;
}

export const exampleSchema = knownKeys(
  {
    text: z.string().optional(),
    event: z.enum(EVENT_KINDS).optional(),
    data: z.string().optional(),
    platform: z.enum(PLATFORMS).optional(),
    channel: channelName.optional(),
    at: z
      .string()
      .refine((s) => parseInstant(s, 'UTC') !== undefined, {
        message: 'badly formed at: use an ISO 8601 time such as 2026-12-05T10:00:00+08:00 (without an offset it is read in the rule\'s timezone)',
      })
      .optional(),
    expect: z.enum(['match', 'no_match']),
  },
  'an example',
);

export const exampleListSchema = z.array(exampleSchema).optional();

export const ruleSchema = knownKeys(
  {
    id: z.string().regex(/^[\p{L}\p{N}_-]+$/u, { message: 'an id holds only letters, digits, "-" and "_"' }),
    description: z.string().nullable().optional(),
    enabled: z.boolean().optional(),
    priority: z.number().int().optional(),
    stop: z.boolean().optional(),
    when: whenSchema,
    then: oneOrMany(actionSchema),
    examples: exampleListSchema,
  },
  'a rule',
);
export type RuleInput = z.output<typeof ruleSchema>;

export const defaultsSchema = knownKeys(
  {
    provider: z.enum(PROVIDERS).optional(),
    timezone: timezoneSchema.optional(),
    channel: oneOrMany(channelName).optional(),
  },
  'defaults',
);
export type DefaultsInput = z.output<typeof defaultsSchema>;

/**
 * The top level, with what its keys hold: `defaults` and `rules` as below, or (for the loader) anything yet.
 * An empty `defaults:` (YAML's null) is no defaults (file-defaults.ts).
 */
const fileShape = <D extends z.ZodType, R extends z.ZodType>(defaults: D, rule: R) =>
  knownKeys({ defaults: defaults.nullable().optional(), rules: z.array(rule) }, 'a rule file');

/** The top level for the loader: each rule of `rules` is checked on its own (so one bad rule hides nothing). */
export const fileSchema = fileShape(z.unknown(), z.unknown());

/** A whole rule file in one schema, for the JSON Schema editors use (json-schema.ts). */
export const ruleFileSchema = fileShape(defaultsSchema, ruleSchema);
