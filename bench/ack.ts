/**
 * Ack path: how fast the service answers LINE webhooks, against what the least a
 * webhook endpoint (and the least a DURABLE webhook endpoint) does on this machine.
 *
 * Servers, each in its own process, measured in one run under the same load:
 * - baselines without a store: bare node:http (read body, verify HMAC, 200) and
 *   express verify-only (express.raw + @line/bot-sdk validateSignature + 200), first and last;
 * - minimal durable, per engine, first and last: node:http + verify + JSON.parse + one
 *   transaction per event-loop turn (event id inserted, one desired-state row upserted),
 *   200 after the commit — better-sqlite3 (WAL, synchronous=FULL), or PostgreSQL;
 * - the ack path (`createApp` as `startServer` wires it, delivery worker OFF);
 * - the ack path without its store, once (servers/ack-path.ts, BENCH_ACK_STORE=none: `accept`
 *   answers at once, nothing written; a diagnostic, not durable): how far the webhook's own work
 *   (HTTP, verify, parse, rules, metrics, log line) lets the ack path come to the minimal durable
 *   servers before any storing: an upper bound on what taking the store off the event loop
 *   (a worker thread owning the connection) could give the ack path;
 * - `serve` (`startServer`, delivery worker ON, draining to a fake MantaGo with 20 ms
 *   latency in a process of its own): max throughput, and open loop at 1,000 webhooks/s
 *   for 20 s with latency counted from each request's scheduled send time (after 2 s at
 *   that rate that are not counted: ack-runs.ts, OPEN_LOOP_WARM_UP_SECONDS).
 * Targets (issue 15): serve ≥ 0.6 × the same engine's minimal durable server; open-loop
 * p99 ≤ 50 ms on both engines.
 *
 * This process generates the load (autocannon; the open-loop sender), each request a
 * fresh webhook with a unique webhookEventId from its own user, signed.
 *
 * Env: BENCH_ACK_SECONDS (per max measurement, default 3), BENCH_ACK_OPEN_LOOP_SECONDS
 * (default 20), BENCH_DATABASE_URL / TEST_DATABASE_URL, BENCH_CPU_PROF=DIR to profile the servers.
 */
import { benchSecrets, createBenchDir, machineLine, type BenchDir } from './lib/bench-env';
import { FIXED_CONNECTIONS, FIXED_RATE, MAX_CONNECTIONS, OPEN_LOOP_WARM_UP_SECONDS, withServer, type Failures, type Max, type Next, type Paced } from './lib/ack-runs';
import { startChild, type RunningChild, type ServerName } from './lib/child';
import type { LoadResult } from './lib/load';
import { createLineWebhooks } from './lib/line-webhooks';
import { benchDatabaseUrl, describeUrl, dropSchema, freshSchema, unreachableReason } from './lib/postgres';
import { emitResult, fmt, printConditions, printSection, round, verdict, type Figure } from './lib/report';
import { metricValue, serviceEnv, type ServiceEnvOptions } from './lib/service-env';

const SECONDS = Number(process.env.BENCH_ACK_SECONDS ?? 3);
const OPEN_LOOP_SECONDS = Number(process.env.BENCH_ACK_OPEN_LOOP_SECONDS ?? 20);
const TAG_API_LATENCY_MS = 20;
const TARGET_RATIO = 0.5;
const TARGET_MINIMAL_RATIO = 0.6;
const TARGET_P99_MS = 50;

type Engine = 'sqlite' | 'postgres';
type Start = (server: ServerName) => Promise<RunningChild>;

interface EngineFigures {
  minimalFirst: Max;
  minimalLast: Max;
  ackMax: Max;
  fixed: LoadResult;
  paced: Paced;
  counts: { accepted: number; answered: number; agree: boolean };
  serveOpen: Paced;
  serveMax: Max;
  serveCounts: { accepted: number; answered: number; agree: boolean };
  /** Tags the worker applied per second during the open loop and during max throughput. */
  tagsPerSecond: { open: number; max: number };
}

async function measureEngine(engine: Engine, start: Start, next: Next, failures: Failures[]): Promise<EngineFigures> {
  const measure = <T>(server: ServerName, m: Parameters<typeof withServer<T>>[4]) => withServer(() => start(server), next, failures, SECONDS, m);
  const minimal: ServerName = engine === 'sqlite' ? 'minimal-sqlite' : 'minimal-postgres';
  const minimalFirst = await measure(minimal, (r) => r.max('max'));
  const ack = await measure('ack-path', async (r) => {
    const paced = await r.paced();
    const fixed = await r.overallRate();
    const ackMax = await r.max('max');
    return { paced, fixed, ackMax, counts: await r.countsAgree() };
  });
  // Open loop first (the worker drains what it brings, at the same time), then max throughput.
  const serve = await measure('service', async (r) => {
    const applied = () => metricValue(r.child.url, 'autotag_tag_operations_total', { outcome: 'applied' });
    const before = await applied();
    const serveOpen = await r.paced(OPEN_LOOP_SECONDS);
    const afterOpen = await applied();
    const serveMax = await r.max('max');
    const afterMax = await applied();
    const tagsPerSecond = { open: (afterOpen - before) / serveOpen.durationS, max: (afterMax - afterOpen) / serveMax.durationS };
    return { serveOpen, serveMax, serveCounts: await r.countsAgree(), tagsPerSecond };
  });
  const minimalLast = await measure(minimal, (r) => r.max('max'));
  return { minimalFirst, minimalLast, ...ack, ...serve };
}

const latency = (r: LoadResult) => `p50 ${fmt(r.p50, 'ms')}, p99 ${fmt(r.p99, 'ms')}, max ${fmt(r.max, 'ms')}`;
const mean = (a: number, b: number) => (a + b) / 2;

async function measureBaselines(dir: BenchDir, lineSecret: string, next: Next, failures: Failures[]): Promise<{ express: Max; expressPaced: Paced; bare: Max }> {
  const env = { LINE_CHANNEL_SECRET: lineSecret };
  const bare = await withServer(() => startChild('bare-verify', env, dir.logFile('bare-verify')), next, failures, SECONDS, (r) => r.max('max'));
  const express = await withServer(() => startChild('verify-only', env, dir.logFile('verify-only')), next, failures, SECONDS, async (r) => {
    const expressPaced = await r.paced();
    return { expressPaced, express: await r.max('max') };
  });
  return { bare, ...express };
}

function report(engine: Engine, f: EngineFigures, base: { express: number; expressCpu: number; bare: number }, figures: Record<string, Figure>): void {
  const minimal = mean(f.minimalFirst.okPerSecond, f.minimalLast.okPerSecond);
  const ratio = f.ackMax.okPerSecond / base.express;
  const serveVsMinimal = f.serveMax.okPerSecond / minimal;
  const openMet = f.serveOpen.p99 <= TARGET_P99_MS;
  printSection(`Minimal durable server on ${engine} (node:http, verify, JSON.parse, one transaction per event-loop turn, 200 after the commit)`, [
    ['max throughput (first, last)', `${fmt(f.minimalFirst.okPerSecond, 'req/s', 0)}, ${fmt(f.minimalLast.okPerSecond, 'req/s', 0)}; mean ${fmt(minimal, 'req/s', 0)} (${fmt(minimal / base.bare, '', 2)} × bare node:http)`],
    ['CPU per webhook', `${fmt(mean(f.minimalFirst.cpuMsPerOk, f.minimalLast.cpuMsPerOk), 'ms', 3)}`],
  ]);
  printSection(`serve on ${engine} (startServer, delivery worker draining to the fake tag API at the same time)`, [
    ['max throughput', `${fmt(f.serveMax.okPerSecond, 'req/s', 0)}  (${latency(f.serveMax)} at ${MAX_CONNECTIONS} connections)`],
    ['ratio to minimal durable', `${fmt(serveVsMinimal, '', 2)}  (target ≥ ${TARGET_MINIMAL_RATIO}: ${verdict(serveVsMinimal >= TARGET_MINIMAL_RATIO)})`],
    ['ratio to express verify-only', `${fmt(f.serveMax.okPerSecond / base.express, '', 2)}; to bare node:http ${fmt(f.serveMax.okPerSecond / base.bare, '', 2)}`],
    ['CPU per webhook', `${fmt(f.serveMax.cpuMsPerOk, 'ms', 3)} at max throughput, ${fmt(f.serveOpen.cpuMsPerOk, 'ms', 3)} at ${FIXED_RATE}/s (the worker's share included; at ${FIXED_RATE}/s it drains what max throughput left)`],
    [`open loop ${FIXED_RATE}/s for ${OPEN_LOOP_SECONDS} s`, `${latency(f.serveOpen)}  (sent at ${fmt(f.serveOpen.achievedRate, 'req/s', 0)}; target p99 ≤ ${TARGET_P99_MS} ms: ${verdict(openMet)})`],
    ['open loop p99 per second', f.serveOpen.perSecondP99.map((v) => (Number.isFinite(v) ? Math.round(v) : '-')).join(' ') + ' ms'],
    [`its ${OPEN_LOOP_WARM_UP_SECONDS} s warm-up, not counted`, `p99 ${fmt(f.serveOpen.warmUpP99, 'ms', 1)} (the turn from the max-throughput warm-up to the steady rate)`],
    ['accepted by the service', `${f.serveCounts.accepted} for ${f.serveCounts.answered} 200s seen ${f.serveCounts.agree ? '(agree)' : '(DISAGREE)'}`],
    ['tags applied meanwhile', `${fmt(f.tagsPerSecond.open, '/s', 0)} during the open loop, ${fmt(f.tagsPerSecond.max, '/s', 0)} during max throughput`],
  ]);
  printSection(`Ack path on ${engine} (createApp: verify, parse, rules, durable commit, 200; delivery off)`, [
    ['max throughput', `${fmt(f.ackMax.okPerSecond, 'req/s', 0)}  (${latency(f.ackMax)} at ${MAX_CONNECTIONS} connections); ${fmt(f.ackMax.okPerSecond / minimal, '', 2)} × minimal durable`],
    ['ratio to express verify-only', `${fmt(ratio, '', 2)}  (target ≥ ${TARGET_RATIO}: ${verdict(ratio >= TARGET_RATIO)})`],
    ['CPU per webhook', `${fmt(f.ackMax.cpuMsPerOk, 'ms', 3)} at max throughput (express baseline ÷ this = ${fmt(base.expressCpu / f.ackMax.cpuMsPerOk, '', 2)}), ${fmt(f.paced.cpuMsPerOk, 'ms', 3)} at ${FIXED_RATE}/s (at that rate each webhook pays alone for what max throughput shares: its commit, its wake-ups)`],
    [`open loop ${FIXED_RATE}/s for ${SECONDS} s`, `${latency(f.paced)}  (sent at ${fmt(f.paced.achievedRate, 'req/s', 0)})`],
    [`autocannon overallRate=${FIXED_RATE}`, `${latency(f.fixed)}  (${fmt(f.fixed.okPerSecond, 'req/s', 0)} answered)`],
    ['accepted by the service', `${f.counts.accepted} for ${f.counts.answered} 200s seen ${f.counts.agree ? '(agree)' : '(DISAGREE)'}`],
  ]);
  Object.assign(figures, {
    [`${engine}_minimal_rps`]: round(minimal, 0),
    [`${engine}_minimal_rps_first`]: round(f.minimalFirst.okPerSecond, 0),
    [`${engine}_minimal_rps_last`]: round(f.minimalLast.okPerSecond, 0),
    [`${engine}_minimal_vs_bare`]: round(minimal / base.bare, 3),
    [`${engine}_serve_rps`]: round(f.serveMax.okPerSecond, 0),
    [`${engine}_serve_vs_minimal`]: round(serveVsMinimal, 3),
    [`${engine}_serve_vs_minimal_target_met`]: serveVsMinimal >= TARGET_MINIMAL_RATIO,
    [`${engine}_serve_cpu_ms_per_webhook`]: round(f.serveMax.cpuMsPerOk, 3),
    [`${engine}_open_loop_cpu_ms_per_webhook`]: round(f.serveOpen.cpuMsPerOk, 3),
    [`${engine}_open_loop_p50_ms`]: round(f.serveOpen.p50, 2),
    [`${engine}_open_loop_p99_ms`]: round(f.serveOpen.p99, 2),
    [`${engine}_open_loop_max_ms`]: round(f.serveOpen.max, 2),
    // The slowest second and the first counted one beside the whole run's p99 (the warm-up's too, above).
    [`${engine}_open_loop_worst_second_p99_ms`]: round(Math.max(...f.serveOpen.perSecondP99.filter(Number.isFinite)), 1),
    [`${engine}_open_loop_first_second_p99_ms`]: round(f.serveOpen.perSecondP99[0] ?? Number.NaN, 1),
    [`${engine}_open_loop_warm_up_p99_ms`]: round(f.serveOpen.warmUpP99, 1),
    [`${engine}_open_loop_sent_rps`]: round(f.serveOpen.achievedRate, 0),
    [`${engine}_open_loop_target_met`]: openMet,
    [`${engine}_serve_counts_agree`]: f.serveCounts.agree,
    [`${engine}_open_loop_tags_per_s`]: round(f.tagsPerSecond.open, 0),
    [`${engine}_serve_tags_per_s`]: round(f.tagsPerSecond.max, 0),
    [`${engine}_rps`]: round(f.ackMax.okPerSecond, 0),
    [`${engine}_ratio`]: round(ratio, 3),
    [`${engine}_ratio_target_met`]: ratio >= TARGET_RATIO,
    [`${engine}_cpu_ms_per_webhook`]: round(f.ackMax.cpuMsPerOk, 3),
    [`${engine}_paced_cpu_ms_per_webhook`]: round(f.paced.cpuMsPerOk, 3),
    [`${engine}_paced_p99_ms`]: round(f.paced.p99, 2),
    [`${engine}_overall_rate_p99_ms`]: round(f.fixed.p99, 2),
    [`${engine}_counts_agree`]: f.counts.agree,
    [`${engine}_with_delivery_rps`]: round(f.serveMax.okPerSecond, 0),
    [`${engine}_with_delivery_ratio`]: round(f.serveMax.okPerSecond / base.express, 3),
  });
}

/** The ack path without its store against each engine's minimal durable server (see the header). */
function reportNoStore(noStore: Max, engines: Record<Engine, EngineFigures | undefined>, figures: Record<string, Figure>): void {
  const rows: [string, string][] = [
    ['max throughput', `${fmt(noStore.okPerSecond, 'req/s', 0)}  (${latency(noStore)} at ${MAX_CONNECTIONS} connections)`],
    ['CPU per webhook', fmt(noStore.cpuMsPerOk, 'ms', 3)],
  ];
  figures.no_store_rps = round(noStore.okPerSecond, 0);
  figures.no_store_cpu_ms_per_webhook = round(noStore.cpuMsPerOk, 3);
  for (const engine of ['sqlite', 'postgres'] as const) {
    const f = engines[engine];
    if (!f) continue;
    const minimal = mean(f.minimalFirst.okPerSecond, f.minimalLast.okPerSecond);
    const ratio = noStore.okPerSecond / minimal;
    rows.push([`ratio to minimal durable on ${engine}`, `${fmt(ratio, '', 2)}  (serve's: ${fmt(f.serveMax.okPerSecond / minimal, '', 2)})`]);
    figures[`no_store_vs_${engine}_minimal`] = round(ratio, 3);
  }
  printSection('Ack path without its store (diagnostic: accept answers at once, nothing is written; delivery off)', rows);
}

async function main(): Promise<void> {
  const dir = createBenchDir('ack');
  const s = benchSecrets();
  const tagApiChild = await startChild('tag-api', { BENCH_TAG_TOKEN: s.mantagoToken, BENCH_TAG_LATENCY_MS: String(TAG_API_LATENCY_MS) }, dir.logFile('tag-api'));
  const tagApi = { baseUrl: `${tagApiChild.url}/api` };
  const next = createLineWebhooks({ secret: s.lineSecret }).next;
  const pgUrl = benchDatabaseUrl();
  const failures: Failures[] = [];
  const conditions = [
    machineLine(),
    `load from this process: autocannon with ${MAX_CONNECTIONS} connections for max throughput, ${SECONDS} s per measurement after a 1 s warm-up; each request one LINE text event with a unique webhookEventId, from its own user, matching a rule (one tag operation per webhook)`,
    `open loop: a request due every 1/${FIXED_RATE} s over up to ${MAX_CONNECTIONS} connections, latency counted from when it was due (${OPEN_LOOP_SECONDS} s on serve, ${SECONDS} s elsewhere), after ${OPEN_LOOP_WARM_UP_SECONDS} s at the same rate over the same connections that are not counted; autocannon overallRate=${FIXED_RATE} over ${FIXED_CONNECTIONS} connections on the ack path`,
    `every server in its own process, the fake MantaGo too (${TAG_API_LATENCY_MS} ms per call); serve with LOG_LEVEL=info (log lines to a file) and its worker on; the ack path with the worker off`,
  ];
  const env = (o: Omit<ServiceEnvOptions, 'dir' | 'lineSecret' | 'api'>) => serviceEnv({ dir, lineSecret: s.lineSecret, api: { tagApi, token: s.mantagoToken, secret: s.mantagoSecret }, ...o });

  try {
    const first = await measureBaselines(dir, s.lineSecret, next, failures);
    const sqlite = await measureEngine('sqlite', (server) => startChild(server, env({ data: `sqlite-${server}-${Date.now()}` }), dir.logFile(`${server}-sqlite`)), next, failures);
    const noStore = await withServer(() => startChild('ack-path', env({ data: `no-store-${Date.now()}`, extra: { BENCH_ACK_STORE: 'none' } }), dir.logFile('ack-path-no-store')), next, failures, SECONDS, (r) => r.max('max'));
    const pgProblem = await unreachableReason(pgUrl);
    let postgres: EngineFigures | undefined;
    if (!pgProblem) {
      const schemas: string[] = [];
      try {
        postgres = await measureEngine('postgres', (server) => {
          const schema = freshSchema('ack');
          schemas.push(schema);
          return startChild(server, env({ data: `pg-${server}`, postgres: { url: pgUrl, schema } }), dir.logFile(`${server}-postgres`));
        }, next, failures);
      } finally {
        for (const schema of schemas) await dropSchema(pgUrl, schema);
      }
      conditions.push(`PostgreSQL at ${describeUrl(pgUrl)}, on this machine, a fresh schema per server (dropped afterwards)`);
    } else {
      conditions.push(`PostgreSQL part SKIPPED: ${pgProblem}`);
    }
    const last = await measureBaselines(dir, s.lineSecret, next, failures);
    const base = {
      express: mean(first.express.okPerSecond, last.express.okPerSecond),
      expressCpu: mean(first.express.cpuMsPerOk, last.express.cpuMsPerOk),
      bare: mean(first.bare.okPerSecond, last.bare.okPerSecond),
    };

    printConditions(conditions);
    printSection('Baselines without a store (first, last; the means are used for ratios)', [
      ['bare node:http + HMAC + 200', `${fmt(first.bare.okPerSecond, 'req/s', 0)}, ${fmt(last.bare.okPerSecond, 'req/s', 0)}; mean ${fmt(base.bare, 'req/s', 0)}`],
      ['express + validateSignature + 200', `${fmt(first.express.okPerSecond, 'req/s', 0)}, ${fmt(last.express.okPerSecond, 'req/s', 0)}; mean ${fmt(base.express, 'req/s', 0)}; CPU ${fmt(base.expressCpu, 'ms', 3)} per request`],
      [`express, open loop ${FIXED_RATE}/s`, `${latency(first.expressPaced)}; ${latency(last.expressPaced)}  (what this machine allowed at all, then)`],
    ]);
    const figures: Record<string, Figure> = {
      seconds_per_measurement: SECONDS,
      open_loop_seconds: OPEN_LOOP_SECONDS,
      bare_rps: round(base.bare, 0),
      bare_rps_first: round(first.bare.okPerSecond, 0),
      bare_rps_last: round(last.bare.okPerSecond, 0),
      baseline_rps: round(base.express, 0),
      baseline_rps_first: round(first.express.okPerSecond, 0),
      baseline_rps_last: round(last.express.okPerSecond, 0),
      baseline_cpu_ms_per_request: round(base.expressCpu, 3),
      baseline_paced_p99_ms: round(first.expressPaced.p99, 2),
      baseline_paced_p99_ms_last: round(last.expressPaced.p99, 2),
    };
    for (const [engine, f] of [['sqlite', sqlite], ['postgres', postgres]] as const) {
      if (f) report(engine, f, base, figures);
      else {
        printSection(`${engine}`, [['skipped', pgProblem ?? '']]);
        figures[`${engine}_skipped`] = pgProblem ?? 'skipped';
      }
    }
    reportNoStore(noStore, { sqlite, postgres }, figures);
    if (failures.length > 0) printSection('Requests that did not get 200', failures.map((r) => [r.label, JSON.stringify(r.statuses)]));
    figures.non_200_runs = failures.length;
    emitResult('ack', figures);
  } finally {
    await tagApiChild.stop();
    dir.cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
