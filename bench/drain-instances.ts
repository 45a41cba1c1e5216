/**
 * Drain by several instances: how the rate gate does when N service processes (N = 1, 2, 3)
 * share one PostgreSQL store, and so one provider account, and drain it at once.
 *
 * Each configuration queues its operations in a fresh PostgreSQL schema (as webhooks would:
 * parser, rules, store.accept), holds them (due in an hour) while N services start on it
 * (`startServer`, each its own process), then makes them due and wakes every instance at once.
 * The services share ONE fake MantaGo with a token bucket of 200/s and 20 ms answers; each gets
 * its own base URL path, so the fake counts every instance's calls apart.
 *
 * - `ra` (drain.ts phase 2): 3,000 ops, bursts of 20, every 429 with `Retry-After: 1` — a pause
 *   every instance keeps (stored, and told by NOTIFY).
 * - `limited` (drain.ts phase 1): 6,000 ops, bursts of 200, 429s without Retry-After.
 *
 * Per configuration: the rate from the first call to the last 2xx as a fraction of the limit,
 * the 429s' share and runs, each instance's share of the calls, and what each one's log says
 * (runs weighed, estimates, pauses heard), then one JSON line with the ratio of the rate to the
 * N=1 run of the same phase in the same round. Rounds alternate the configurations.
 *
 * Env: BENCH_DRAIN_INSTANCES_RA_OPS (3000), BENCH_DRAIN_INSTANCES_OPS (6000),
 * BENCH_DRAIN_INSTANCES_N (1,2,3), BENCH_DRAIN_INSTANCES_CALLERS (the services' PROVIDER_CALLERS: one, every), BENCH_DRAIN_INSTANCES_ONLY (ra,limited), BENCH_DRAIN_INSTANCES_ROUNDS (1),
 * BENCH_DRAIN_KEEP=1 (keep the service logs), BENCH_DATABASE_URL / TEST_DATABASE_URL.
 */
import { benchSecrets, createBenchDir, machineLine, type BenchDir } from './lib/bench-env';
import { startChild, type RunningChild } from './lib/child';
import { CountingTagApi, type CountingTagApiOptions, type TagApiCounts } from './lib/counting-tag-api';
import { createLineWebhooks } from './lib/line-webhooks';
import { benchDatabaseUrl, describeUrl, dropSchema, freshSchema, holdOperations, releaseOperations, unreachableReason } from './lib/postgres';
import { prefillPostgres, take } from './lib/prefill';
import { summariseRateLog, type RateLogSummary } from './lib/rate-log';
import { emitResult, fmt, printConditions, printSection, round, type Figure } from './lib/report';
import { serviceEnv } from './lib/service-env';

const env = (name: string, fallback: string) => process.env[`BENCH_DRAIN_INSTANCES_${name}`] ?? fallback;
const RA_OPS = Number(env('RA_OPS', '3000'));
const LIMITED_OPS = Number(env('OPS', '6000'));
const COUNTS = env('N', '1,2,3').split(',').map(Number);
const PHASES = env('ONLY', 'ra,limited').split(',').map((p) => p.trim());
const ROUNDS = Number(env('ROUNDS', '1'));
/** PROVIDER_CALLERS of the services: unset is the service's default (one). */
const CALLERS = process.env.BENCH_DRAIN_INSTANCES_CALLERS;
const LATENCY_MS = 20;
const LIMIT = 200;
const RA_BURST = 20;

interface Phase {
  key: string;
  title: string;
  ops: number;
  api: Omit<CountingTagApiOptions, 'token'>;
}

const PHASE_LIST: Phase[] = [
  { key: 'ra', title: `bursts of ${RA_BURST}, every 429 with Retry-After: 1`, ops: RA_OPS, api: { latencyMs: LATENCY_MS, rateLimit: { perSecond: LIMIT, burst: RA_BURST, retryAfter: 'bucket' } } },
  { key: 'limited', title: `bursts of ${LIMIT}, 429 without Retry-After`, ops: LIMITED_OPS, api: { latencyMs: LATENCY_MS, rateLimit: { perSecond: LIMIT } } },
];

interface Drained {
  rate: number;
  seconds: number;
  counts: TagApiCounts;
  logs: RateLogSummary[];
  /** How long queueing every operation took (before the instances started). */
  queuedSeconds: number;
}

/** Starts every service at once (their starts overlap; each instance's first call is reported). */
async function startAll(envs: Record<string, string>[], logFiles: string[]): Promise<RunningChild[]> {
  const started = await Promise.allSettled(envs.map((e, i) => startChild('service', e, logFiles[i] as string)));
  const children = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.allSettled(children.map((c) => c.stop()));
    throw failed.reason;
  }
  return children;
}

async function drain(dir: BenchDir, url: string, name: string, phase: Phase, instances: number): Promise<Drained> {
  const s = benchSecrets();
  const schema = freshSchema('drainn');
  const tagApi = await CountingTagApi.start({ ...phase.api, token: s.mantagoToken });
  try {
    const ids = Array.from({ length: instances }, (_, i) => `i${i + 1}`);
    const envs = ids.map((id) =>
      serviceEnv({
        dir, data: `${name}-${id}`, lineSecret: s.lineSecret, postgres: { url, schema },
        api: { tagApi: { baseUrl: tagApi.clientBaseUrl(id) }, token: s.mantagoToken, secret: s.mantagoSecret },
        extra: CALLERS ? { PROVIDER_CALLERS: CALLERS } : {},
      }),
    );
    const logFiles = ids.map((id) => dir.logFile(`service-${name}-${id}`));
    // Queued first and held (due in an hour) while the services start one after another on a
    // busy machine, then made due at once with a NOTIFY: every instance begins together, and
    // nothing but the drain runs meanwhile.
    const hooks = createLineWebhooks({ secret: s.lineSecret });
    const queueing = performance.now();
    const queued = await prefillPostgres({ url, schema, rulesDir: dir.rulesDir, lineSecret: s.lineSecret, webhooks: take(phase.ops, hooks.next) });
    if (queued !== phase.ops) throw new Error(`${name}: ${queued} operations queued for ${phase.ops} webhooks`);
    const queuedSeconds = (performance.now() - queueing) / 1000;
    await holdOperations(url, schema);
    const children = await startAll(envs, logFiles);
    try {
      await releaseOperations(url, schema);
      // Fails the run rather than hang: anything slower than 40 operations/s is far off anyway.
      await tagApi.waitForApplied(phase.ops, Math.max(60_000, (phase.ops / 40) * 1000));
    } finally {
      const stopped = await Promise.allSettled(children.map((c) => c.stop()));
      const failed = stopped.find((x) => x.status === 'rejected');
      if (failed) console.error(`${name}: ${String(failed.reason)}`);
    }
    const counts = tagApi.snapshot();
    const seconds = ((counts.lastOkAt ?? 0) - (counts.firstCallAt ?? 0)) / 1000;
    return { rate: phase.ops / seconds, seconds, counts, logs: logFiles.map(summariseRateLog), queuedSeconds };
  } finally {
    await tagApi.close();
    await dropSchema(url, schema).catch((err: unknown) => console.error(`${name}: could not drop schema ${schema}: ${String(err)}`));
  }
}

function report(phase: Phase, instances: number, round_: number, d: Drained, baseline: Drained | undefined): void {
  const c = d.counts;
  const share429 = c.calls > 0 ? c.rateLimited / c.calls : 0;
  // Every instance, those that made no call too (their logs are indexed alike).
  const clients = Array.from({ length: instances }, (_, i) => `i${i + 1}`).map((id) => [id, c.byClient[id]] as const);
  const first = c.firstCallAt ?? 0;
  const perInstance = clients.map(([id, x], i) => {
    if (x === undefined) return [id, `no call; NOTIFY pauses heard ${d.logs[i]?.pausedByOthers ?? 0}`] as [string, string];
    const log = d.logs[i];
    const estimates = log?.paced.map((e) => fmt(e, '', 0)).join(', ') ?? '';
    return [
      id,
      `${fmt((x.calls / c.calls) * 100, '%', 1)} of calls (${x.calls}, ${x.rateLimited} 429s), first call at +${fmt(x.firstCallAt - first, 'ms', 0)}; ` +
        `runs weighed ${log?.paced.length ?? 0} paced [${estimates}] + ${log?.held ?? 0} held, NOTIFY pauses heard ${log?.pausedByOthers ?? 0}`,
    ] as [string, string];
  });
  const vsBaseline = baseline ? d.rate / baseline.rate : undefined;
  printSection(`${phase.key}: ${phase.title}, ${instances} instance(s), round ${round_}`, [
    ['drain', `${phase.ops} ops in ${fmt(d.seconds, 's', 2)} = ${fmt(d.rate, 'ops/s')} = ${fmt(d.rate / LIMIT, '× the limit', 3)}${vsBaseline !== undefined ? ` (${fmt(vsBaseline, '× N=1', 3)})` : ''}`],
    ['queued', `in ${fmt(d.queuedSeconds, 's', 2)} (before the start)`],
    ['429s', `${c.rateLimited} of ${c.calls} calls = ${fmt(share429 * 100, '%', 2)} in ${c.rateLimitedRuns} run(s); repeated calls ${c.repeated}`],
    ...perInstance,
  ]);
  const figures: Record<string, Figure> = {
    phase: phase.key,
    instances,
    round: round_,
    ops: phase.ops,
    rate: round(d.rate, 1),
    rate_vs_limit: round(d.rate / LIMIT, 3),
    rate_vs_1: vsBaseline !== undefined ? round(vsBaseline, 3) : null,
    calls: c.calls,
    share_429: round(share429, 4),
    runs_429: c.rateLimitedRuns,
    repeated: c.repeated,
    call_shares: clients.map(([, x]) => round((x?.calls ?? 0) / c.calls, 3)).join('/'),
    queued_s: round(d.queuedSeconds, 2),
    first_call_spread_ms: round(Math.max(0, ...clients.flatMap(([, x]) => (x ? [x.firstCallAt - first] : []))), 0),
    runs_weighed: d.logs.map((l) => l.paced.length + l.held).join('/'),
    pauses_heard: d.logs.map((l) => l.pausedByOthers).join('/'),
  };
  emitResult('drain-instances', figures);
}

async function main(): Promise<void> {
  const url = benchDatabaseUrl();
  const unreachable = await unreachableReason(url);
  if (unreachable) throw new Error(unreachable);
  const dir = createBenchDir('drain-instances');
  printConditions([
    machineLine(),
    `${COUNTS.join(', ')} service process(es) (LOG_LEVEL=info, logs to files) sharing one PostgreSQL store at ${describeUrl(url)} (a fresh schema per configuration); this process plays one MantaGo: ${LATENCY_MS} ms per answer, a token bucket of ${LIMIT}/s`,
    'each queued operation is for its own user; the rate is distinct operations answered 2xx ÷ time from the first call (any instance) to the last 2xx',
    `PROVIDER_CALLERS=${CALLERS ?? 'unset (one)'}`,
    `${ROUNDS} round(s), each running every phase (${PHASES.join(', ')}) at every N in turn; rate_vs_1 is against N=1 of the same phase and round`,
  ]);
  try {
    for (let r = 1; r <= ROUNDS; r++) {
      for (const phase of PHASE_LIST.filter((p) => PHASES.includes(p.key))) {
        let baseline: Drained | undefined;
        for (const n of COUNTS) {
          const d = await drain(dir, url, `${phase.key}-n${n}-r${r}`, phase, n);
          if (n === 1) baseline = d;
          report(phase, n, r, d, n === 1 ? undefined : baseline);
        }
      }
    }
  } finally {
    if (process.env.BENCH_DRAIN_KEEP) console.error(`logs kept in ${dir.root}`);
    else dir.cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
