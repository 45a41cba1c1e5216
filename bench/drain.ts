/**
 * Drain: how fast the real delivery worker empties a queue of tag operations into
 * a slow, rate-limited tag API.
 *
 * Each phase queues N operations in a fresh SQLite store (as webhooks would: parser,
 * rules, store.accept), then starts the service (`startServer`, its own process) on it
 * and counts, at a local fake MantaGo with 20 ms latency, the distinct operations that
 * got a 2xx — from the first call to the last success.
 *
 * 1. rate-limited: a token bucket of 200 requests/s (bursts of 200) answers 429 above it,
 *    WITHOUT a Retry-After header: such a limit refills a token every 5 ms, which a
 *    whole-second Retry-After cannot express (`Retry-After: 1` would idle the provider
 *    for 200 calls' worth of capacity at every 429, and measure the header instead of the
 *    worker's pacing). The worker must find the rate itself (RateGate). Targets: ≥ 0.9 ×
 *    200/s, and 429s at most 5 % of calls.
 * 2. no limit, PROVIDER_CONCURRENCY=8 (the default), against
 * 3. the baseline: the same API with PROVIDER_CONCURRENCY=1 — in the same run.
 *
 * Env: BENCH_DRAIN_OPS (default 20000), BENCH_DRAIN_FREE_OPS (default 2000),
 * BENCH_DRAIN_SERIAL_OPS (default 300), BENCH_CPU_PROF=DIR.
 */
import { benchSecrets, createBenchDir, machineLine, type BenchDir } from './lib/bench-env';
import { startChild } from './lib/child';
import { CountingTagApi, type CountingTagApiOptions, type TagApiCounts } from './lib/counting-tag-api';
import { createLineWebhooks } from './lib/line-webhooks';
import { prefillSqlite, take } from './lib/prefill';
import { emitResult, fmt, printConditions, printSection, round, verdict } from './lib/report';
import { serviceEnv } from './lib/service-env';

const LIMITED_OPS = Number(process.env.BENCH_DRAIN_OPS ?? 20_000);
const FREE_OPS = Number(process.env.BENCH_DRAIN_FREE_OPS ?? 2_000);
const SERIAL_OPS = Number(process.env.BENCH_DRAIN_SERIAL_OPS ?? 300);
const LATENCY_MS = 20;
const LIMIT = 200;
const TARGET_RATE = 0.9 * LIMIT;
const TARGET_429_SHARE = 0.05;

interface Drained {
  ops: number;
  rate: number;
  seconds: number;
  counts: TagApiCounts;
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
    try {
      // Fails the run rather than hang: anything slower than 40 operations/s is far off every target anyway.
      await tagApi.waitForApplied(ops, Math.max(60_000, (ops / 40) * 1000));
    } finally {
      await child.stop();
    }
    const counts = tagApi.snapshot();
    const seconds = ((counts.lastOkAt ?? 0) - (counts.firstCallAt ?? 0)) / 1000;
    return { ops, rate: ops / seconds, seconds, counts };
  } finally {
    await tagApi.close();
  }
}

async function main(): Promise<void> {
  const dir = createBenchDir('drain');
  const conditions = [
    machineLine(),
    `the service in its own process on SQLite (LOG_LEVEL=info, log lines to a file), this process plays MantaGo: ${LATENCY_MS} ms per answer`,
    'each queued operation is for its own user (no coalescing); the rate is distinct operations answered 2xx ÷ time from the first call to the last 2xx',
    `rate limit: token bucket ${LIMIT}/s, bursts of ${LIMIT}, 429 without Retry-After; 429'd operations are retried after RETRY_MIN_MS (1 s, the default)`,
  ];
  try {
    const free = await drain(dir, 'free-c8', FREE_OPS, { latencyMs: LATENCY_MS });
    const serial = await drain(dir, 'free-c1', SERIAL_OPS, { latencyMs: LATENCY_MS }, { PROVIDER_CONCURRENCY: '1' });
    const limited = await drain(dir, 'limited', LIMITED_OPS, { latencyMs: LATENCY_MS, rateLimit: { perSecond: LIMIT } });

    const share429 = limited.counts.rateLimited / limited.counts.calls;
    const speedup = free.rate / serial.rate;
    printConditions(conditions);
    printSection(`Rate-limited API (${LIMIT}/s token bucket, ${LATENCY_MS} ms)`, [
      ['operations', `${limited.ops} applied in ${fmt(limited.seconds, 's')}`],
      ['drain rate', `${fmt(limited.rate, 'ops/s')}  (target ≥ ${TARGET_RATE}: ${verdict(limited.rate >= TARGET_RATE)})`],
      ['429s', `${limited.counts.rateLimited} of ${limited.counts.calls} calls = ${fmt(share429 * 100, '%', 2)}  (target ≤ ${TARGET_429_SHARE * 100} %: ${verdict(share429 <= TARGET_429_SHARE)})`],
      ['repeated calls', `${limited.counts.repeated} (a 2xx for an operation already applied)`],
    ]);
    printSection(`No limit (${LATENCY_MS} ms)`, [
      ['PROVIDER_CONCURRENCY=8', `${fmt(free.rate, 'ops/s')}  (${free.ops} in ${fmt(free.seconds, 's')}, at most ${free.counts.maxInFlight} in flight)`],
      ['baseline PROVIDER_CONCURRENCY=1', `${fmt(serial.rate, 'ops/s')}  (${serial.ops} in ${fmt(serial.seconds, 's')}; one call at a time cannot beat ${fmt(1000 / LATENCY_MS, 'ops/s', 0)})`],
      ['ratio', `${fmt(speedup, '×', 2)}`],
    ]);
    emitResult('drain', {
      limited_ops: limited.ops,
      limited_rate: round(limited.rate, 1),
      limited_rate_target_met: limited.rate >= TARGET_RATE,
      limited_429_share: round(share429, 4),
      limited_429_target_met: share429 <= TARGET_429_SHARE,
      limited_calls: limited.counts.calls,
      limited_repeated: limited.counts.repeated,
      free_ops: free.ops,
      free_rate: round(free.rate, 1),
      serial_ops: serial.ops,
      serial_rate: round(serial.rate, 1),
      free_vs_serial: round(speedup, 2),
      repeated: free.counts.repeated + serial.counts.repeated + limited.counts.repeated,
    });
  } finally {
    dir.cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
