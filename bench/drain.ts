/**
 * Drain: how fast the real delivery worker empties a queue of tag operations into
 * a slow, rate-limited tag API.
 *
 * Each phase queues N operations in a fresh SQLite store (as webhooks would: parser,
 * rules, store.accept), then starts the service (`startServer`, its own process) on it
 * and counts, at a local fake MantaGo with 20 ms latency, the distinct operations that
 * got a 2xx — from the first call to the last success.
 *
 * 1. rate-limited, 20,000 ops: a token bucket of 200 requests/s (bursts of 200) answers 429
 *    above it, WITHOUT a Retry-After header (such a limit refills a token every 5 ms, which a
 *    whole-second header cannot express). The worker must find the rate itself (RateGate).
 *    Targets: ≥ 0.9 × 200/s, and 429s at most 5 % of calls.
 * 2. rate-limited, 3,000 ops, the way most APIs answer: bursts of only 20, and every 429 says
 *    `Retry-After: 1`, which pauses the account for a whole second (CONTRACT.md "Retries"), so
 *    each run of 429s costs 200 calls' worth of capacity. Same targets (issue 15, part 4). Beside
 *    it, the same ops against the same API without a limit: the service's own ceiling in this run.
 * 3. no limit, 20 ms, PROVIDER_CONCURRENCY=8 (the old default, set explicitly so the figure stays
 *    comparable), against the baseline PROVIDER_CONCURRENCY=1 — in the same run.
 * 4. a slow API (200 ms) without limit, 2,000 ops, PROVIDER_CONCURRENCY unset (adaptive):
 *    target ≥ 100 ops/s (issue 15, part 5); beside it a few hundred ops with PROVIDER_CONCURRENCY=8,
 *    which cannot beat 8 / 0.2 s = 40 ops/s.
 * 5. phase 2's limit as a real API's edge answers it: accepted calls in 100 ms (the tag write),
 *    429s in 5 ms (the rate limiter, before any write). The rate gate weighs a 429 once the
 *    calls in flight with it have answered; counted at the 429 instead, this drain ran at about
 *    0.43 × the limit with six runs of 429s. The same targets, printed for comparison.
 *
 * Env: BENCH_DRAIN_OPS (default 20000), BENCH_DRAIN_RA_OPS (3000), BENCH_DRAIN_FREE_OPS (2000),
 * BENCH_DRAIN_SERIAL_OPS (300), BENCH_DRAIN_SLOW_OPS (2000), BENCH_DRAIN_SLOW_C8_OPS (400),
 * BENCH_DRAIN_ONLY=limited,ra,free,slow,edge (a subset of the phases), BENCH_DRAIN_KEEP=1 (keep the
 * service logs), BENCH_CPU_PROF=DIR.
 */
import { benchSecrets, createBenchDir, machineLine, type BenchDir } from './lib/bench-env';
import { startChild } from './lib/child';
import { CountingTagApi, type CountingTagApiOptions, type TagApiCounts } from './lib/counting-tag-api';
import { createLineWebhooks } from './lib/line-webhooks';
import { prefillSqlite, take } from './lib/prefill';
import { emitResult, fmt, printConditions, printSection, round, verdict, type Figure } from './lib/report';
import { serviceEnv } from './lib/service-env';

const LIMITED_OPS = Number(process.env.BENCH_DRAIN_OPS ?? 20_000);
const FREE_OPS = Number(process.env.BENCH_DRAIN_FREE_OPS ?? 2_000);
const SERIAL_OPS = Number(process.env.BENCH_DRAIN_SERIAL_OPS ?? 300);
const RA_OPS = Number(process.env.BENCH_DRAIN_RA_OPS ?? 3_000);
const SLOW_OPS = Number(process.env.BENCH_DRAIN_SLOW_OPS ?? 2_000);
const SLOW_C8_OPS = Number(process.env.BENCH_DRAIN_SLOW_C8_OPS ?? 400);
const ONLY = new Set((process.env.BENCH_DRAIN_ONLY ?? 'limited,ra,free,slow,edge').split(',').map((p) => p.trim()));
const LATENCY_MS = 20;
const SLOW_LATENCY_MS = 200;
/** Phase 5: a tag write's round trip, and a rate limiter's 429 at the API's edge. */
const EDGE_LATENCY_MS = 100;
const EDGE_REFUSED_MS = 5;
const LIMIT = 200;
const RA_BURST = 20;
const TARGET_RATE = 0.9 * LIMIT;
const TARGET_429_SHARE = 0.05;
const TARGET_SLOW_RATE = 100;

interface Drained {
  ops: number;
  rate: number;
  seconds: number;
  counts: TagApiCounts;
  /** The service's CPU time (user + system, every thread) per operation applied, from its start to the last one. */
  cpuMsPerOp: number;
}

async function drain(dir: BenchDir, name: string, ops: number, api: Omit<CountingTagApiOptions, 'token'>, extraEnv: Record<string, string> = {}): Promise<Drained> {
  const s = benchSecrets();
  const tagApi = await CountingTagApi.start({ ...api, token: s.mantagoToken });
  try {
    const env = serviceEnv({ dir, data: name, lineSecret: s.lineSecret, api: { tagApi, token: s.mantagoToken, secret: s.mantagoSecret }, extra: extraEnv });
    const hooks = createLineWebhooks({ secret: s.lineSecret });
    const queued = await prefillSqlite({ dataDir: env.DATA_DIR as string, rulesDir: dir.rulesDir, lineSecret: s.lineSecret, webhooks: take(ops, hooks.next) });
    if (queued !== ops) throw new Error(`${name}: ${queued} operations queued for ${ops} webhooks (every benchmark message should match one rule)`);
    const child = await startChild('service', env, dir.logFile(`service-${name}`));
    let cpuMicros: number;
    try {
      const before = await child.usage();
      // Fails the run rather than hang: anything slower than 40 operations/s is far off every target anyway.
      await tagApi.waitForApplied(ops, Math.max(60_000, (ops / 40) * 1000));
      cpuMicros = (await child.usage()).cpuMicros - before.cpuMicros;
    } finally {
      await child.stop();
    }
    const counts = tagApi.snapshot();
    const seconds = ((counts.lastOkAt ?? 0) - (counts.firstCallAt ?? 0)) / 1000;
    return { ops, rate: ops / seconds, seconds, counts, cpuMsPerOp: cpuMicros / 1000 / ops };
  } finally {
    await tagApi.close();
  }
}

/** The rows and figures of one rate-limited phase. */
function limitedReport(key: string, d: Drained, limitLine: string): { rows: [string, string][]; figures: Record<string, Figure> } {
  const share429 = d.counts.rateLimited / d.counts.calls;
  return {
    rows: [
      ['limit', limitLine],
      ['operations', `${d.ops} applied in ${fmt(d.seconds, 's')}`],
      ['drain rate', `${fmt(d.rate, 'ops/s')} = ${fmt(d.rate / LIMIT, '× the limit', 3)}  (target ≥ ${TARGET_RATE}: ${verdict(d.rate >= TARGET_RATE)})`],
      ['429s', `${d.counts.rateLimited} of ${d.counts.calls} calls = ${fmt(share429 * 100, '%', 2)} in ${d.counts.rateLimitedRuns} run(s)  (target ≤ ${TARGET_429_SHARE * 100} %: ${verdict(share429 <= TARGET_429_SHARE)})`],
      ['repeated calls', `${d.counts.repeated} (a 2xx for an operation already applied)`],
    ],
    figures: {
      [`${key}_ops`]: d.ops,
      [`${key}_rate`]: round(d.rate, 1),
      [`${key}_rate_target_met`]: d.rate >= TARGET_RATE,
      [`${key}_429_share`]: round(share429, 4),
      [`${key}_429_target_met`]: share429 <= TARGET_429_SHARE,
      [`${key}_429_runs`]: d.counts.rateLimitedRuns,
      [`${key}_calls`]: d.counts.calls,
      [`${key}_repeated`]: d.counts.repeated,
    },
  };
}

async function main(): Promise<void> {
  const dir = createBenchDir('drain');
  const conditions = [
    machineLine(),
    `the service in its own process on SQLite (LOG_LEVEL=info, log lines to a file), this process plays MantaGo: ${LATENCY_MS} ms per answer (${SLOW_LATENCY_MS} ms for the slow API; ${EDGE_LATENCY_MS} ms, and ${EDGE_REFUSED_MS} ms for a 429, for the edge phase)`,
    'each queued operation is for its own user (no coalescing); the rate is distinct operations answered 2xx ÷ time from the first call to the last 2xx',
    "429'd operations are retried after RETRY_MIN_MS (1 s, the default) or the Retry-After, whichever is later",
  ];
  const figures: Record<string, Figure> = {};
  const sections: [string, [string, string][]][] = [];
  let repeated = 0;
  try {
    if (ONLY.has('limited')) {
      const d = await drain(dir, 'limited', LIMITED_OPS, { latencyMs: LATENCY_MS, rateLimit: { perSecond: LIMIT } });
      const r = limitedReport('limited', d, `token bucket ${LIMIT}/s, bursts of ${LIMIT}, 429 without Retry-After`);
      sections.push([`Rate-limited API, no Retry-After (${LATENCY_MS} ms)`, r.rows]);
      Object.assign(figures, r.figures);
      repeated += d.counts.repeated;
    }
    if (ONLY.has('ra')) {
      // The service's own ceiling in this run (same ops, same API, no limit): on a busy machine it
      // can be below the limit, and then no rate gate can reach the limit.
      const ceiling = await drain(dir, 'ceiling', RA_OPS, { latencyMs: LATENCY_MS });
      const d = await drain(dir, 'limited-ra', RA_OPS, { latencyMs: LATENCY_MS, rateLimit: { perSecond: LIMIT, burst: RA_BURST, retryAfter: 'bucket' } });
      const r = limitedReport('ra', d, `token bucket ${LIMIT}/s, bursts of ${RA_BURST}, every 429 with Retry-After: 1 (a 1 s pause of the account)`);
      const reachable = Math.min(LIMIT, ceiling.rate);
      r.rows.push(['service ceiling', `${fmt(ceiling.rate, 'ops/s')} without a limit (${ceiling.ops} ops, PROVIDER_CONCURRENCY unset); drain rate ÷ min(limit, ceiling) = ${fmt(d.rate / reachable, '', 3)}`]);
      sections.push([`Rate-limited API with Retry-After (${LATENCY_MS} ms)`, r.rows]);
      Object.assign(figures, r.figures, { ra_ceiling_rate: round(ceiling.rate, 1), ra_vs_reachable: round(d.rate / reachable, 3) });
      repeated += d.counts.repeated + ceiling.counts.repeated;
    }
    if (ONLY.has('edge')) {
      const api = { latencyMs: EDGE_LATENCY_MS, refusedLatencyMs: EDGE_REFUSED_MS, rateLimit: { perSecond: LIMIT, burst: RA_BURST, retryAfter: 'bucket' } };
      const d = await drain(dir, 'limited-edge', RA_OPS, api);
      const r = limitedReport('edge', d, `as phase 2 (bursts of ${RA_BURST}, Retry-After: 1), accepted calls answered in ${EDGE_LATENCY_MS} ms, 429s in ${EDGE_REFUSED_MS} ms`);
      sections.push([`Rate-limited API with Retry-After, 429s answered at once (${EDGE_LATENCY_MS} ms / ${EDGE_REFUSED_MS} ms)`, r.rows]);
      Object.assign(figures, r.figures);
      repeated += d.counts.repeated;
    }
    if (ONLY.has('free')) {
      const free = await drain(dir, 'free-c8', FREE_OPS, { latencyMs: LATENCY_MS }, { PROVIDER_CONCURRENCY: '8' });
      const serial = await drain(dir, 'free-c1', SERIAL_OPS, { latencyMs: LATENCY_MS }, { PROVIDER_CONCURRENCY: '1' });
      const speedup = free.rate / serial.rate;
      sections.push([`No limit (${LATENCY_MS} ms)`, [
        ['PROVIDER_CONCURRENCY=8', `${fmt(free.rate, 'ops/s')}  (${free.ops} in ${fmt(free.seconds, 's')}, at most ${free.counts.maxInFlight} in flight); the service's CPU ${fmt(free.cpuMsPerOp, 'ms', 3)} per operation`],
        ['baseline PROVIDER_CONCURRENCY=1', `${fmt(serial.rate, 'ops/s')}  (${serial.ops} in ${fmt(serial.seconds, 's')}; one call at a time cannot beat ${fmt(1000 / LATENCY_MS, 'ops/s', 0)})`],
        ['ratio', `${fmt(speedup, '×', 2)}`],
      ]]);
      Object.assign(figures, { free_ops: free.ops, free_rate: round(free.rate, 1), free_cpu_ms_per_op: round(free.cpuMsPerOp, 3), serial_ops: serial.ops, serial_rate: round(serial.rate, 1), free_vs_serial: round(speedup, 2) });
      repeated += free.counts.repeated + serial.counts.repeated;
    }
    if (ONLY.has('slow')) {
      const slow = await drain(dir, 'slow', SLOW_OPS, { latencyMs: SLOW_LATENCY_MS });
      const slowC8 = await drain(dir, 'slow-c8', SLOW_C8_OPS, { latencyMs: SLOW_LATENCY_MS }, { PROVIDER_CONCURRENCY: '8' });
      sections.push([`Slow API, no limit (${SLOW_LATENCY_MS} ms)`, [
        ['PROVIDER_CONCURRENCY unset', `${fmt(slow.rate, 'ops/s')}  (${slow.ops} in ${fmt(slow.seconds, 's')}, at most ${slow.counts.maxInFlight} in flight; target ≥ ${TARGET_SLOW_RATE}: ${verdict(slow.rate >= TARGET_SLOW_RATE)})`],
        ['PROVIDER_CONCURRENCY=8', `${fmt(slowC8.rate, 'ops/s')}  (${slowC8.ops} in ${fmt(slowC8.seconds, 's')}; 8 calls at a time cannot beat ${fmt(8000 / SLOW_LATENCY_MS, 'ops/s', 0)})`],
      ]]);
      Object.assign(figures, {
        slow_ops: slow.ops, slow_rate: round(slow.rate, 1), slow_rate_target_met: slow.rate >= TARGET_SLOW_RATE, slow_max_in_flight: slow.counts.maxInFlight,
        slow_c8_ops: slowC8.ops, slow_c8_rate: round(slowC8.rate, 1),
      });
      repeated += slow.counts.repeated + slowC8.counts.repeated;
    }
    printConditions(conditions);
    for (const [title, rows] of sections) printSection(title, rows);
    emitResult('drain', { ...figures, repeated });
  } finally {
    if (process.env.BENCH_DRAIN_KEEP) console.error(`logs kept in ${dir.root}`);
    else dir.cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
