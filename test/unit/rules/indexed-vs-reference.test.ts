import fc from 'fast-check';
import { EVENT_KINDS, PLATFORMS } from '../../../src/chat-event';
import {
  evaluate,
  RuleSet,
  type PostbackDefinition,
  type RuleDefinition,
  type RuleEvent,
  type ScheduleDefinition,
  type TextDefinition,
  type WhenDefinition,
} from '../../../src/rules';
import { DAYS } from '../../../src/rules/definitions';
import type { TagAction } from '../../../src/tag-operation';
import { normalizeText } from '../../../src/rules/normalize-text';
import { referenceEvaluate } from './reference-evaluator';

/**
 * Random rule sets and events, built from a small alphabet so that keywords
 * overlap, nest and repeat (the cases an index gets wrong), with full-width
 * forms, case differences and characters whose normalisation changes length.
 */
const FRAGMENTS = ['a', 'b', 'ab', 'ba', 'A', 'Ｂ', 'ａｂ', '優', '惠', '優惠', '券', '1', '１', '12', ' ', '　', 'İ', 'ß', 'ﬁ', 'fi', '!', 'Σ', 'σ', 'ς'];
const fragmentString = (min: number, max: number) => fc.array(fc.constantFrom(...FRAGMENTS), { minLength: min, maxLength: max }).map((a) => a.join(''));
const pattern = fragmentString(1, 3).filter((p) => normalizeText(p, true) !== '');
const patterns = fc.array(pattern, { minLength: 1, maxLength: 3 });
const DATA = ['x', 'xy', 'y=1', 'Y=1', 'y=12'];
const data = fc.constantFrom(...DATA);
const REGEXES = ['^a', 'b$', '優+', '\\d', 'a.b', 'ab|惠', '\\s\\S', '\\bab?\\b', '[^a-z]ß', 'i|fi$', '(?<!a)b'];
const ZONES = ['UTC', 'Asia/Taipei', 'America/New_York'];
// Two weeks around a daylight-saving change in New York, so offsets and days shift.
const T0 = Date.UTC(2026, 2, 2);
const SPAN = 14 * 86_400_000;

const pad = (n: number) => String(n).padStart(2, '0');
const localTime = fc.tuple(fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), fc.constantFrom(0, 1, 2)).map(
  ([d, h, m, precision]) => {
    const date = new Date(T0 + d * 86_400_000).toISOString().slice(0, 10);
    return precision === 0 ? date : precision === 1 ? `${date}T${pad(h)}:${pad(m)}` : `${date}T${pad(h)}:${pad(m)}:${pad((m * 7) % 60)}`;
  },
);

/**
 * A map made of one or two of the given single-key generators: random conditions
 * with every key present would almost never hold, and agreement on "no match"
 * alone proves little.
 */
function someOf<T extends object>(parts: fc.Arbitrary<Partial<T>>[], min = 1, max = 2): fc.Arbitrary<T> {
  return fc.array(fc.oneof(...parts), { minLength: min, maxLength: max }).map((list) => Object.assign({}, ...list) as T);
}

const text = fc.tuple(
  someOf<Omit<TextDefinition, 'case_sensitive'>>([
    patterns.map((contains) => ({ contains })),
    patterns.map((contains_all) => ({ contains_all })),
    patterns.map((equals) => ({ equals })),
    patterns.map((starts_with) => ({ starts_with })),
    fc.constantFrom(...REGEXES).map((regex) => ({ regex })),
  ]),
  fc.boolean(),
).map(([forms, case_sensitive]): TextDefinition => ({ ...forms, case_sensitive }));

const dataList = fc.array(data, { minLength: 1, maxLength: 2 });
const postback = someOf<PostbackDefinition>([
  dataList.map((equals) => ({ equals })),
  dataList.map((contains) => ({ contains })),
  dataList.map((starts_with) => ({ starts_with })),
  fc.constantFrom('^y', '\\d$', 'Y').map((regex) => ({ regex })),
]);

const schedule = fc.tuple(
  someOf<Omit<ScheduleDefinition, 'timezone'>>([
    localTime.map((from) => ({ from })),
    localTime.map((until) => ({ until })),
    fc.uniqueArray(fc.constantFrom(...DAYS), { minLength: 1, maxLength: 7 }).map((days) => ({ days })),
    fc
      .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 24 }))
      .filter(([a, b]) => a !== b)
      .map(([a, b]) => ({ hours: `${pad(a)}:00-${pad(b)}:00` })),
  ]),
  fc.constantFrom(...ZONES),
).map(([parts, timezone]): ScheduleDefinition => ({ ...parts, timezone }));

/** The environment's channels and two of a channels file. */
const CHANNELS = ['line', 'facebook', 'whatsapp', 'brand-a-line', 'brand-b-meta'];

/** A `when` of bounded depth: any / all / not only above depth 0, so trees stay small. */
function whenOf(depth: number): fc.Arbitrary<WhenDefinition> {
  const leaves: fc.Arbitrary<WhenDefinition>[] = [
    fc.uniqueArray(fc.constantFrom(...PLATFORMS), { minLength: 1, maxLength: 3 }).map((platform) => ({ platform })),
    fc.uniqueArray(fc.constantFrom(...CHANNELS), { minLength: 1, maxLength: 3 }).map((channel) => ({ channel })),
    fc.uniqueArray(fc.constantFrom(...EVENT_KINDS), { minLength: 1, maxLength: 4 }).map((event) => ({ event })),
    text.map((t) => ({ text: t })),
    text.map((t) => ({ text: t })),
    postback.map((p) => ({ postback: p })),
    schedule.map((sc) => ({ schedule: sc })),
  ];
  if (depth === 0) return someOf<WhenDefinition>(leaves, 1, 2);
  const sub = whenOf(depth - 1);
  return someOf<WhenDefinition>(
    [
      ...leaves,
      fc.array(sub, { minLength: 1, maxLength: 3 }).map((any) => ({ any })),
      fc.array(sub, { minLength: 1, maxLength: 2 }).map((all) => ({ all })),
      sub.map((not) => ({ not })),
    ],
    1,
    2,
  );
}
const boundedWhen = fc.oneof(whenOf(0), whenOf(1), whenOf(2));

// Some adds with a lifetime (`for:`), which names its rule (filled in below): two rules adding
// one tag for different lifetimes, or for none, must each hand out their own action. Some
// actions name an account: the same tag in another account is another action.
const LIFETIMES = { '1h': 3_600_000, '7d': 604_800_000 } as const;
const action = fc
  .record({
    action: fc.constantFrom('add' as const, 'remove' as const),
    provider: fc.constantFrom('mantago' as const, 'botbonnie' as const),
    kind: fc.constantFrom('personal' as const, 'client' as const),
    tagId: fc.constantFrom('t1', 't2', 't3'),
    lifetime: fc.constantFrom(undefined, '1h' as const, '7d' as const),
    account: fc.option(fc.constantFrom('brand-a', 'brand-b'), { freq: 3, nil: undefined }),
  })
  .map(({ lifetime, account, ...a }): TagAction => ({
    ...a,
    ...(a.action === 'add' && lifetime ? { lifetime: { ms: LIFETIMES[lifetime], text: lifetime, rule: '' } } : {}),
    ...(account !== undefined ? { account } : {}),
  }));

const rules = fc
  .array(
    fc.record({
      enabled: fc.constantFrom(true, true, true, false),
      priority: fc.integer({ min: -2, max: 2 }),
      stop: fc.constantFrom(false, false, false, true),
      when: boundedWhen,
      then: fc.array(action, { minLength: 1, maxLength: 2 }),
    }),
    { maxLength: 25 },
  )
  .map((list) =>
    list.map(
      (r, i): RuleDefinition => ({
        ...r,
        then: r.then.map((a) => (a.lifetime ? { ...a, lifetime: { ...a.lifetime, rule: `r${i}` } } : a)),
        id: `r${i}`,
        examples: [],
        file: 'rules.yaml',
        line: i + 1,
        column: 1,
      }),
    ),
  );

const event: fc.Arbitrary<RuleEvent> = fc
  .record({
    platform: fc.constantFrom(...PLATFORMS),
    // Without a channel, the event is on its platform's environment channel.
    channel: fc.option(fc.constantFrom(...CHANNELS), { freq: 2, nil: undefined }),
    kind: fc.constantFrom(...EVENT_KINDS, 'other' as const),
    // Mostly with text: text conditions are where the index could go wrong.
    text: fc.option(fragmentString(0, 12), { freq: 5, nil: undefined }),
    postbackData: fc.option(data, { freq: 2, nil: undefined }),
    timestamp: fc.integer({ min: T0 - 86_400_000, max: T0 + SPAN + 86_400_000 }),
  })
  .map((e) => {
    const out: RuleEvent = { platform: e.platform, kind: e.kind, timestamp: e.timestamp };
    if (e.channel !== undefined) out.channel = e.channel;
    if (e.text !== undefined) out.text = e.text;
    if (e.postbackData !== undefined) out.postbackData = e.postbackData;
    return out;
  });

describe('the compiled, indexed evaluator agrees with the naive reference', () => {
  it('on random rule sets and events', () => {
    let evaluations = 0;
    let withMatches = 0;
    let textMatches = 0;
    fc.assert(
      fc.property(rules, fc.array(event, { minLength: 1, maxLength: 12 }), (defs, events) => {
        const set = new RuleSet(defs);
        for (const e of events) {
          const expected = referenceEvaluate(defs, e);
          expect(evaluate(set, e)).toEqual(expected);
          evaluations++;
          if (expected.matched.length) withMatches++;
          if (expected.matched.some((id) => defs.find((d) => d.id === id)?.when.text)) textMatches++;
        }
      }),
      { numRuns: 300 },
    );
    // The generators must produce matches, including through text conditions, or agreement means little.
    expect(withMatches / evaluations).toBeGreaterThan(0.2);
    expect(textMatches).toBeGreaterThan(20);
  });

  it('on keyword-heavy rule sets, where most rules are skipped by the index', () => {
    let keywordMatches = 0;
    const keywordRule = fc.record({ contains: patterns, case_sensitive: fc.boolean() });
    fc.assert(
      fc.property(
        fc.array(keywordRule, { minLength: 50, maxLength: 200 }),
        fc.array(fragmentString(0, 30), { minLength: 1, maxLength: 20 }),
        (texts, messages) => {
          const defs = texts.map(
            (t, i): RuleDefinition => ({
              id: `k${i}`,
              enabled: true,
              priority: i % 3,
              stop: false,
              when: { text: t },
              then: [{ action: 'add', provider: 'mantago', kind: 'personal', tagId: `t${i % 7}` }],
              examples: [],
              file: 'k.yaml',
              line: i + 1,
              column: 1,
            }),
          );
          const set = new RuleSet(defs);
          for (const m of messages) {
            const e: RuleEvent = { platform: 'line', kind: 'message', text: m, timestamp: 0 };
            const expected = referenceEvaluate(defs, e);
            expect(evaluate(set, e)).toEqual(expected);
            keywordMatches += expected.matched.length;
          }
        },
      ),
      { numRuns: 100 },
    );
    expect(keywordMatches).toBeGreaterThan(100);
  });
});
