/**
 * Rules benchmark: how evaluation cost grows with the number of keyword rules.
 *
 * The same 10,000 pseudo-random messages (mixed Chinese and English, 5–200
 * characters, a fixed seed) are evaluated against rule sets of 10, 1,000 and
 * 10,000 keyword rules, loaded from YAML files the way `serve` loads them, and
 * against a naive baseline that scans every rule's keywords with `includes`.
 * Each figure is the median of per-message timings over several rounds, after
 * a warm-up pass; configurations are interleaved within each round so that a
 * noisy neighbour on the machine affects them alike.
 *
 * Targets: 10,000 rules ≤ 20 µs per message (median) and ≤ 3× the 10-rule figure.
 * Then, for information: ten typical regex rules on the linear-time engine, against
 * JavaScript's RegExp running the same patterns over the same texts.
 * The last line of output is one JSON object with every figure.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { evaluate, loadRuleSet, type RuleEvent, type RuleSet } from '../src/rules';
import { normalizeText } from '../src/rules/normalize-text';

const MESSAGES = 10_000;
const SIZES = [10, 1_000, 10_000] as const;
const ROUNDS = 5;
const NAIVE_ROUNDS = 1;
const TARGET_US = 20;
const TARGET_RATIO = 3;

/** mulberry32: small, fast, and the same sequence on every machine. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = prng(20261212);
const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;

// Common characters of marketing chat, and made-up English words.
const HANZI = [...'我你他要的是了不在有這個們來到時大地為子中說生國年著就那和要出也得裡後自以會家可下而過天去能對小多然於心學麼之都好看起發當沒成只如事把還用第樣道想作種開美總從無情己面最女但現前些所同日手又行意動方期它頭經長兒回位分愛老因很給名法間斯知世什兩次使身者被高已親其進此話常與活正感優惠券折扣會員價格免費送貨退款訂單活動限時搶購新品上市']; 
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
const englishWord = () => Array.from({ length: int(3, 9) }, () => pick([...LETTERS])).join('');
const hanziWord = () => Array.from({ length: int(2, 3) }, () => pick(HANZI)).join('');
const ENGLISH = Array.from({ length: 400 }, englishWord);

interface KeywordRule {
  id: string;
  keywords: string[];
}

function makeRules(count: number): KeywordRule[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `kw-${i}`,
    // Half Chinese, half English; 1–3 keywords each, as real coupon/keyword rules have.
    keywords: Array.from({ length: int(1, 3) }, () => (random() < 0.5 ? hanziWord() : `${englishWord()}${englishWord()}`)),
  }));
}

function makeMessages(rules: KeywordRule[]): string[] {
  return Array.from({ length: MESSAGES }, () => {
    const target = int(5, 200);
    let s = '';
    while (s.length < target) {
      const r = random();
      if (r < 0.45) s += pick(HANZI);
      else if (r < 0.75) s += `${pick(ENGLISH)} `;
      else if (r < 0.8) s += pick(['，', '。', '！', '？', '!', '?', ' ']);
      else if (r < 0.82) s += pick(['ＣＯＵＰＯＮ', '１２', 'ＶＩＰ']);
      // Some messages carry a real keyword, from anywhere in the largest set.
      else if (r < 0.835) s += pick(pick(rules).keywords);
      else s += String(int(0, 99));
    }
    return s.slice(0, target);
  });
}

function writeRuleFiles(dir: string, rules: KeywordRule[]): void {
  // 1,000 rules per file, as a large deployment might split them.
  for (let f = 0; f * 1000 < rules.length; f++) {
    const chunk = rules.slice(f * 1000, (f + 1) * 1000);
    const yaml = [
      'defaults:',
      '  provider: mantago',
      'rules:',
      ...chunk.flatMap((r) => [
        `  - id: ${r.id}`,
        `    when: { event: message, text: { contains: [${r.keywords.map((k) => JSON.stringify(k)).join(', ')}] } }`,
        `    then: [{ add_tag: tag-${r.id} }]`,
      ]),
    ].join('\n');
    writeFileSync(path.join(dir, `rules-${String(f).padStart(3, '0')}.yaml`), `${yaml}\n`);
  }
}

/** The baseline: every rule in turn, every keyword with `includes` (normalisation done once per message). */
function naiveMatched(rules: { id: string; keywords: string[] }[], text: string): string[] {
  const t = normalizeText(text, false);
  const matched: string[] = [];
  for (const r of rules) if (r.keywords.some((k) => t.includes(k))) matched.push(r.id);
  return matched;
}

function median(samples: Float64Array): number {
  const sorted = Float64Array.from(samples).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const nsToUs = (ns: bigint) => Number(ns) / 1000;

async function main(): Promise<void> {
  const allRules = makeRules(SIZES[SIZES.length - 1]!);
  const messages = makeMessages(allRules);
  const events: RuleEvent[] = messages.map((text) => ({ platform: 'line', kind: 'message', text, timestamp: Date.UTC(2026, 11, 12) }));

  const sets = new Map<number, { ruleSet: RuleSet; naive: { id: string; keywords: string[] }[]; loadMs: number }>();
  for (const size of SIZES) {
    const rules = allRules.slice(0, size);
    const dir = mkdtempSync(path.join(os.tmpdir(), `bench-rules-${size}-`));
    try {
      writeRuleFiles(dir, rules);
      const started = process.hrtime.bigint();
      const loaded = await loadRuleSet(dir);
      const loadMs = nsToUs(process.hrtime.bigint() - started) / 1000;
      if (!loaded.ruleSet) throw new Error(`generated rules are invalid: ${JSON.stringify(loaded.problems.slice(0, 3))}`);
      const naive = rules.map((r) => ({ id: r.id, keywords: r.keywords.map((k) => normalizeText(k, false)) }));
      sets.set(size, { ruleSet: loaded.ruleSet, naive, loadMs });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  // The index must give the naive answer, or its speed means nothing.
  let matchesPerSize: Record<number, number> = {};
  for (const size of SIZES) {
    const { ruleSet, naive } = sets.get(size)!;
    let total = 0;
    for (const e of events) {
      const fast = evaluate(ruleSet, e).matched;
      const slow = naiveMatched(naive, e.text!);
      if (fast.join() !== slow.join()) throw new Error(`index and naive scan disagree on ${JSON.stringify(e.text)}: ${fast} vs ${slow}`);
      total += fast.length;
    }
    matchesPerSize = { ...matchesPerSize, [size]: total / events.length };
  }

  // Warm-up: let the JIT settle on every path before anything is measured.
  for (const size of SIZES) for (const e of events) evaluate(sets.get(size)!.ruleSet, e);

  const timerSamples = new Float64Array(events.length);
  for (let i = 0; i < events.length; i++) {
    const t0 = process.hrtime.bigint();
    timerSamples[i] = nsToUs(process.hrtime.bigint() - t0);
  }

  const indexed = new Map<number, Float64Array>(SIZES.map((s) => [s, new Float64Array(events.length * ROUNDS)]));
  let sink = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const size of SIZES) {
      const { ruleSet } = sets.get(size)!;
      const samples = indexed.get(size)!;
      for (let i = 0; i < events.length; i++) {
        const t0 = process.hrtime.bigint();
        sink += evaluate(ruleSet, events[i]!).matched.length;
        samples[round * events.length + i] = nsToUs(process.hrtime.bigint() - t0);
      }
    }
  }

  const naiveSamples = new Map<number, Float64Array>(SIZES.map((s) => [s, new Float64Array(events.length * NAIVE_ROUNDS)]));
  for (let round = 0; round < NAIVE_ROUNDS; round++) {
    for (const size of SIZES) {
      const { naive } = sets.get(size)!;
      const samples = naiveSamples.get(size)!;
      for (let i = 0; i < events.length; i++) {
        const t0 = process.hrtime.bigint();
        sink += naiveMatched(naive, events[i]!.text!).length;
        samples[round * events.length + i] = nsToUs(process.hrtime.bigint() - t0);
      }
    }
  }

  const fig = (n: number) => Math.round(n * 1000) / 1000;
  const result: Record<string, number | boolean | string> = { bench: 'rules', messages: MESSAGES, rounds: ROUNDS };
  const lengths = messages.map((m) => m.length);
  console.log(
    `rules benchmark: ${MESSAGES} messages (${Math.min(...lengths)}–${Math.max(...lengths)} chars, mixed Chinese/English), ` +
      `median per-message time over ${ROUNDS} rounds (naive: ${NAIVE_ROUNDS}), node ${process.version}`,
  );
  console.log(`timer overhead (included in every figure): ${fig(median(timerSamples))} µs`);
  console.log('');
  console.log('rules      load ms   indexed µs/msg   naive µs/msg   naive/indexed   matches/msg');
  for (const size of SIZES) {
    const ix = median(indexed.get(size)!);
    const nv = median(naiveSamples.get(size)!);
    const loadMs = sets.get(size)!.loadMs;
    console.log(
      `${String(size).padStart(6)}  ${loadMs.toFixed(0).padStart(8)}  ${fig(ix).toFixed(3).padStart(15)}  ${fig(nv).toFixed(3).padStart(13)}  ${(nv / ix).toFixed(1).padStart(13)}×  ${matchesPerSize[size]!.toFixed(3).padStart(11)}`,
    );
    result[`indexed_us_${size}`] = fig(ix);
    result[`naive_us_${size}`] = fig(nv);
    result[`load_ms_${size}`] = Math.round(loadMs);
  }
  const largest = result[`indexed_us_${SIZES[SIZES.length - 1]}`] as number;
  const smallest = result[`indexed_us_${SIZES[0]}`] as number;
  const growth = largest / smallest;
  const speedup = (result[`naive_us_${SIZES[SIZES.length - 1]}`] as number) / largest;
  result.ratio_10000_over_10 = Math.round(growth * 100) / 100;
  result.naive_over_indexed_10000 = Math.round(speedup * 10) / 10;
  result.timer_overhead_us = fig(median(timerSamples));
  result.target_met = largest <= TARGET_US && growth <= TARGET_RATIO;
  console.log('');
  console.log(`10,000 rules vs 10 rules (indexed): ${growth.toFixed(2)}×  (target ≤ ${TARGET_RATIO}×)`);
  console.log(`10,000 rules: ${largest.toFixed(3)} µs/message  (target ≤ ${TARGET_US} µs)`);
  console.log(`naive / indexed at 10,000 rules: ${speedup.toFixed(1)}×`);
  console.log(`targets ${result.target_met ? 'met' : 'NOT met'}${sink < 0 ? '' : ''}`);

  // What the linear-time regex engine costs: typical regex rules, against JavaScript's RegExp on the same text.
  const regex = await regexFigures(events);
  result.regex_rules = REGEXES.length;
  result.regex_linear_us = fig(regex.linear);
  result.regex_native_us = fig(regex.native);
  result.regex_linear_over_native = Math.round((regex.linear / regex.native) * 10) / 10;
  console.log('');
  console.log(
    `${REGEXES.length} regex rules: ${fig(regex.linear).toFixed(3)} µs/message on the linear-time engine, ` +
      `${fig(regex.native).toFixed(3)} µs with JavaScript's RegExp (${result.regex_linear_over_native}×; RegExp can take seconds on a hostile text)`,
  );
  console.log(JSON.stringify(result));
}

/** Regexes of the kind marketing rules use. */
const REGEXES = [
  '^(我要|給我).*折扣',
  'coupon|優惠',
  '\\d{4}-\\d{2}-\\d{2}',
  '^vip\\s*\\d+$',
  '(?:訂單|order)\\s*#?\\d{6,}',
  '\\bfree\\b',
  '[a-z0-9._%+-]+@[a-z0-9.-]+\\.[a-z]{2,}',
  '^\\s*(取消|unsubscribe)\\s*$',
  '(優惠|折扣).*(券|碼)',
  '\\p{Script=Han}{10,}',
];

/** Median µs per message: the rule set (linear engine) and a plain loop over RegExp (the same flags and text). */
async function regexFigures(events: RuleEvent[]): Promise<{ linear: number; native: number }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-rules-regex-'));
  let ruleSet: RuleSet;
  try {
    const yaml = ['defaults:', '  provider: mantago', 'rules:'];
    REGEXES.forEach((r, i) => yaml.push(`  - id: re-${i}`, `    when: { text: { regex: ${JSON.stringify(r)} } }`, `    then: [{ add_tag: t-${i} }]`));
    writeFileSync(path.join(dir, 'regex.yaml'), `${yaml.join('\n')}\n`);
    const loaded = await loadRuleSet(dir);
    if (!loaded.ruleSet) throw new Error(`regex rules are invalid: ${JSON.stringify(loaded.problems)}`);
    ruleSet = loaded.ruleSet;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const native = REGEXES.map((r) => new RegExp(r, 'iu'));
  const nativeMatched = (text: string) => native.filter((re) => re.test(text.normalize('NFKC').trim())).length;
  // Both must find the same matches, or the comparison means nothing.
  for (const e of events) {
    if (evaluate(ruleSet, e).matched.length !== nativeMatched(e.text!)) throw new Error(`regex engines disagree on ${JSON.stringify(e.text)}`);
  }
  const linear = new Float64Array(events.length * ROUNDS);
  const plain = new Float64Array(events.length * ROUNDS);
  let sink = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < events.length; i++) {
      let t0 = process.hrtime.bigint();
      sink += evaluate(ruleSet, events[i]!).matched.length;
      linear[round * events.length + i] = nsToUs(process.hrtime.bigint() - t0);
      t0 = process.hrtime.bigint();
      sink += nativeMatched(events[i]!.text!);
      plain[round * events.length + i] = nsToUs(process.hrtime.bigint() - t0);
    }
  }
  if (sink < 0) console.log(sink);
  return { linear: median(linear), native: median(plain) };
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
