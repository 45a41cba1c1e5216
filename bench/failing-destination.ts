/**
 * A forward destination that fails: does it slow the webhooks' answers, and the forwards to
 * a healthy destination? (CONTRACT.md: "one destination's failures never delay another".)
 *
 * The service (its own process, SQLite or PostgreSQL) forwards every LINE webhook to two
 * destinations served by this process: one that answers 200 at once, and one that answers
 * 500 at once (failing) — or 200 as well (baseline, same run). Webhooks come at a steady rate,
 * each from a new user (so each forward to the failing destination is the head of its own
 * ordering key, and its backlog grows until FORWARD_GIVE_UP_MS ends each one), for longer than
 * FORWARD_GIVE_UP_MS: the backlog reaches its full size. Measured over the last part of the
 * run, once it has: the ack's p99 (from each request's due time) and the healthy destination's
 * receipt latency.
 *
 * Not part of `npm run bench` (about three minutes an engine). Usage:
 * `tsc -p tsconfig.bench.json && node build-bench/bench/failing-destination.js [sqlite|postgres]`.
 * Env: BENCH_FAILING_RATE (default 500/s), BENCH_FAILING_SECONDS (default 75),
 * BENCH_FAILING_GIVE_UP_MS (FORWARD_GIVE_UP_MS, default 60000, the service's own),
 * BENCH_FAILING_CONCURRENCY (FORWARD_CONCURRENCY; default the service's), BENCH_FAILING_LOG_LEVEL
 * (default error), BENCH_KEEP=1 keeps the bench folder (the service's logs) and prints where,
 * TEST_DATABASE_URL (or BENCH_DATABASE_URL) for postgres.
 */
import { benchSecrets, createBenchDir, machineLine } from './lib/bench-env';
import { startChild } from './lib/child';
import { CountingTagApi } from './lib/counting-tag-api';
import { Downstream } from './lib/downstream';
import { createLineWebhooks } from './lib/line-webhooks';
import { pacedWebhooks } from './lib/load';
import { benchDatabaseUrl, dropSchema, freshSchema } from './lib/postgres';
import { emitResult, fmt, printConditions, printSection, round } from './lib/report';
import { serviceEnv } from './lib/service-env';
import { nowMs, percentile } from './lib/stats';

const RATE = Number(process.env.BENCH_FAILING_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_FAILING_SECONDS ?? 75);
const GIVE_UP_MS = Number(process.env.BENCH_FAILING_GIVE_UP_MS ?? 60_000);
const ENGINE = process.argv[2] === 'postgres' ? 'postgres' : 'sqlite';

interface Measured {
  ackP50: number;
  ackP99: number;
  ackMax: number;
  healthyP99: number;
  healthyArrived: number;
  measuredCount: number;
  failingCalls: number;
  healthyCalls: number;
  non200: number;
}

async function measure(failing: boolean, dir: ReturnType<typeof createBenchDir>, tagApi: CountingTagApi, s: ReturnType<typeof benchSecrets>): Promise<Measured> {
  const healthy = await Downstream.start({ path: '/healthy' });
  const other = await Downstream.start({ status: () => (failing ? 500 : 200), path: '/other' });
  const schema = ENGINE === 'postgres' ? { url: benchDatabaseUrl(), schema: freshSchema(`failing_${failing ? 'f' : 'h'}`) } : undefined;
  const child = await startChild(
    'service',
    serviceEnv({
      dir,
      data: `failing-${failing}`,
      lineSecret: s.lineSecret,
      api: { tagApi, token: s.mantagoToken, secret: s.mantagoSecret },
      ...(schema ? { postgres: schema } : {}),
      extra: {
        LOG_LEVEL: process.env.BENCH_FAILING_LOG_LEVEL ?? 'error',
        LINE_FORWARD_URLS: `${other.url},${healthy.url}`,
        FORWARD_GIVE_UP_MS: String(GIVE_UP_MS),
        ...(process.env.BENCH_FAILING_CONCURRENCY ? { FORWARD_CONCURRENCY: process.env.BENCH_FAILING_CONCURRENCY } : {}),
      },
    }),
    dir.logFile(`service-${failing}`),
  );
  try {
    const hooks = createLineWebhooks({ secret: s.lineSecret });
    const count = RATE * SECONDS;
    // Measured: what is sent once the backlog has reached its full size (after FORWARD_GIVE_UP_MS and a margin).
    const measuredFrom = Math.ceil(((GIVE_UP_MS + 5000) / 1000) * RATE);
    const sentAt = new Map<string, number>();
    const acks: number[] = [];
    let non200 = 0;
    let n = 0;
    await pacedWebhooks({
      url: child.url,
      rate: RATE,
      count,
      connections: 32,
      warmUpCount: RATE,
      next: hooks.next,
      onSent: (w, dueAt) => {
        if (n++ >= measuredFrom) sentAt.set(w.eventIds[0] as string, dueAt);
      },
      onAnswer: (a) => {
        if (a.status !== 200) non200++;
        if (a.dueAt >= 0 && sentAt.size > 0) acks.push(a.ms);
      },
    });
    // The healthy destination's last forwards: a few seconds to arrive.
    const deadline = nowMs() + 15_000;
    while (nowMs() < deadline && [...sentAt.keys()].some((id) => !healthy.arrivals.has(id))) await new Promise((r) => setTimeout(r, 200));
    const healthyLatency = [...sentAt].map(([id, at]) => (healthy.arrivals.get(id) ?? Number.POSITIVE_INFINITY) - at);
    return {
      ackP50: percentile(acks, 50),
      ackP99: percentile(acks, 99),
      ackMax: Math.max(...acks),
      healthyP99: percentile(healthyLatency, 99),
      healthyArrived: [...sentAt.keys()].filter((id) => healthy.arrivals.has(id)).length,
      measuredCount: sentAt.size,
      failingCalls: other.received,
      healthyCalls: healthy.received,
      non200,
    };
  } finally {
    await child.stop();
    await healthy.close();
    await other.close();
    if (schema) await dropSchema(schema.url, schema.schema);
  }
}

async function main(): Promise<void> {
  const dir = createBenchDir('failing');
  const s = benchSecrets();
  const tagApi = await CountingTagApi.start({ latencyMs: 20, token: s.mantagoToken });
  try {
    const baseline = await measure(false, dir, tagApi, s);
    const failing = await measure(true, dir, tagApi, s);
    printConditions([
      machineLine(),
      `${RATE} webhooks/s for ${SECONDS} s (open loop, 32 keep-alive connections), one LINE text event each, every one from a new user`,
      `the service on ${ENGINE} forwards each webhook to two destinations: one answering 200, the other 500 (failing) or 200 (baseline); FORWARD_GIVE_UP_MS=${GIVE_UP_MS}, FORWARD_CONCURRENCY=${process.env.BENCH_FAILING_CONCURRENCY ?? 'default'}, retries as by default`,
      `measured: webhooks sent after ${(GIVE_UP_MS + 5000) / 1000} s, when the failing destination's backlog is at its full size (${RATE} × ${GIVE_UP_MS / 1000} s)`,
    ]);
    const rows = (m: Measured): [string, string][] => [
      ['ack (due → 200)', `p50 ${fmt(m.ackP50, 'ms', 2)}, p99 ${fmt(m.ackP99, 'ms', 2)}, max ${fmt(m.ackMax, 'ms', 1)}${m.non200 ? `; ${m.non200} not 200` : ''}`],
      ['healthy destination: due → receipt', `p99 ${fmt(m.healthyP99, 'ms', 2)}; ${m.healthyArrived} of ${m.measuredCount} arrived`],
      ['calls to the other destination', String(m.failingCalls)],
      ['calls to the healthy destination', `${m.healthyCalls} (${RATE * SECONDS + RATE} webhooks sent)`],
    ];
    printSection('Baseline: both destinations answer 200', rows(baseline));
    printSection('One destination answers 500', rows(failing));
    emitResult('failing-destination', {
      engine: ENGINE,
      rate: RATE,
      seconds: SECONDS,
      give_up_ms: GIVE_UP_MS,
      baseline_ack_p99_ms: round(baseline.ackP99, 2),
      failing_ack_p99_ms: round(failing.ackP99, 2),
      ack_p99_ratio: round(failing.ackP99 / baseline.ackP99, 2),
      baseline_healthy_p99_ms: round(baseline.healthyP99, 2),
      failing_healthy_p99_ms: round(failing.healthyP99, 2),
      all_arrived: baseline.healthyArrived === baseline.measuredCount && failing.healthyArrived === failing.measuredCount,
      failing_calls: failing.failingCalls,
    });
  } finally {
    await tagApi.close();
    if (process.env.BENCH_KEEP) console.log(`kept ${dir.root}`);
    else dir.cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
