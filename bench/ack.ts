/**
 * Ack path: how fast the service answers LINE webhooks, and how that compares with
 * the least any webhook endpoint must do.
 *
 * - ack path: the service's app (`createApp`, wired as `startServer` wires it) — verify,
 *   parse, rules, durable commit, 200 — on SQLite, then on PostgreSQL (a fresh schema,
 *   dropped afterwards), with the delivery worker OFF: these are the target figures,
 *   what a webhook costs up to its 200.
 * - the whole service (`startServer`, delivery worker ON against a fake MantaGo with
 *   20 ms latency and 8 calls in flight): max throughput while the worker competes for
 *   the same process and store, for comparison.
 * - baseline: an express app that only checks the signature with @line/bot-sdk's
 *   `validateSignature` and answers 200 — measured first and last, in the same run.
 *
 * Every server runs in its own process; this process generates the load (autocannon,
 * and an open-loop sender for latency at a fixed rate), each request a fresh webhook
 * with a unique webhookEventId, signed.
 *
 * Env: BENCH_ACK_SECONDS (per measurement, default 3), BENCH_DATABASE_URL / TEST_DATABASE_URL,
 * BENCH_CPU_PROF=DIR to profile the servers.
 */
import { benchSecrets, createBenchDir, machineLine, type BenchDir } from './lib/bench-env';
import { startChild, type RunningChild } from './lib/child';
import { CountingTagApi } from './lib/counting-tag-api';
import { autocannonWebhooks, pacedWebhooks, type LoadResult } from './lib/load';
import { createLineWebhooks, type SignedWebhook } from './lib/line-webhooks';
import { benchDatabaseUrl, describeUrl, dropSchema, freshSchema, unreachableReason } from './lib/postgres';
import { emitResult, fmt, printConditions, printSection, round, verdict, type Figure } from './lib/report';
import { metricValue, serviceEnv, type ServiceEnvOptions } from './lib/service-env';

const SECONDS = Number(process.env.BENCH_ACK_SECONDS ?? 3);
const MAX_CONNECTIONS = 64;
const FIXED_RATE = 1000;
const FIXED_CONNECTIONS = 10;
const TARGET_RATIO = 0.5;
const TARGET_P99_MS = 50;

type Next = () => SignedWebhook;
type Paced = LoadResult & { achievedRate: number };

interface Failures {
  label: string;
  statuses: Record<string, number>;
}

/** Load runs against one server; keeps what it needs to check the server's own count afterwards. */
class Runs {
  answered = 0;
  /** Requests that may have been stored without their 200 being counted (in flight when a run stopped). */
  inFlightAtStop = 0;
  constructor(
    readonly child: RunningChild,
    private readonly next: Next,
    private readonly failures: Failures[],
  ) {}

  private note<R extends LoadResult>(label: string, r: R, connections: number): R {
    this.answered += r.ok;
    this.inFlightAtStop += connections;
    if (r.failed > 0) this.failures.push({ label: `${this.child.name} ${label}`, statuses: r.statuses });
    return r;
  }

  /** Max throughput, and the server's CPU time per 200 during it (a figure the machine's other load barely moves). */
  async max(label: string, durationS = SECONDS): Promise<LoadResult & { cpuMsPerOk: number }> {
    const before = await this.child.usage();
    const r = await autocannonWebhooks({ url: this.child.url, connections: MAX_CONNECTIONS, durationS, next: this.next });
    const after = await this.child.usage();
    return { ...this.note(label, r, MAX_CONNECTIONS), cpuMsPerOk: (after.cpuMicros - before.cpuMicros) / 1000 / r.ok };
  }

  async overallRate(): Promise<LoadResult> {
    const r = await autocannonWebhooks({ url: this.child.url, connections: FIXED_CONNECTIONS, durationS: SECONDS, overallRate: FIXED_RATE, next: this.next });
    return this.note('overallRate', r, FIXED_CONNECTIONS);
  }

  async paced(): Promise<Paced> {
    const r = await pacedWebhooks({ url: this.child.url, rate: FIXED_RATE, count: FIXED_RATE * SECONDS, connections: MAX_CONNECTIONS, next: this.next });
    return this.note('open loop', r, 0);
  }

  /** The service's own count of accepted webhooks: at least every 200 seen, at most those plus what was in flight at a stop. */
  async countsAgree(): Promise<{ accepted: number; answered: number; agree: boolean }> {
    const accepted = await metricValue(this.child.url, 'autotag_webhooks_total', { platform: 'line', outcome: 'accepted' });
    return { accepted, answered: this.answered, agree: accepted >= this.answered && accepted <= this.answered + this.inFlightAtStop };
  }
}

type Max = Awaited<ReturnType<Runs['max']>>;

interface EngineFigures {
  ackMax: Max;
  fixed: LoadResult;
  paced: Paced;
  serviceMax: Max;
  counts: { accepted: number; answered: number; agree: boolean };
}

async function measureEngine(start: (server: 'ack-path' | 'service') => Promise<RunningChild>, next: Next, failures: Failures[]): Promise<EngineFigures> {
  const ack = await start('ack-path');
  let figures: Omit<EngineFigures, 'serviceMax'>;
  try {
    const runs = new Runs(ack, next, failures);
    await runs.max('warm-up', 1);
    const paced = await runs.paced();
    const fixed = await runs.overallRate();
    const ackMax = await runs.max('max');
    figures = { ackMax, fixed, paced, counts: await runs.countsAgree() };
  } finally {
    await ack.stop();
  }
  const service = await start('service');
  try {
    const runs = new Runs(service, next, failures);
    await runs.max('warm-up', 1);
    return { ...figures, serviceMax: await runs.max('max') };
  } finally {
    await service.stop();
  }
}

async function measureBaseline(dir: BenchDir, lineSecret: string, next: Next, failures: Failures[]): Promise<{ max: Max; paced: Paced }> {
  const child = await startChild('verify-only', { LINE_CHANNEL_SECRET: lineSecret }, dir.logFile('verify-only'));
  try {
    const runs = new Runs(child, next, failures);
    await runs.max('warm-up', 1);
    const paced = await runs.paced();
    return { max: await runs.max('max'), paced };
  } finally {
    await child.stop();
  }
}

const latency = (r: LoadResult) => `p50 ${fmt(r.p50, 'ms')}, p99 ${fmt(r.p99, 'ms')}, max ${fmt(r.max, 'ms')}`;

async function main(): Promise<void> {
  const dir = createBenchDir('ack');
  const s = benchSecrets();
  const tagApi = await CountingTagApi.start({ latencyMs: 20, token: s.mantagoToken });
  const next = createLineWebhooks({ secret: s.lineSecret }).next;
  const pgUrl = benchDatabaseUrl();
  const failures: Failures[] = [];
  const conditions = [
    machineLine(),
    `load from this process: autocannon with ${MAX_CONNECTIONS} connections for max throughput, ${SECONDS} s per measurement after a 1 s warm-up; each request one LINE text event with a unique webhookEventId, from its own user, matching a rule (one tag operation per webhook)`,
    `fixed rate ${FIXED_RATE}/s two ways: an open-loop sender (a request due every ms over up to ${MAX_CONNECTIONS} connections, latency counted from when it was due), and autocannon overallRate=${FIXED_RATE} over ${FIXED_CONNECTIONS} connections (autocannon sends each connection's share of a second back to back, then pauses it)`,
    'every server in its own process; the service with LOG_LEVEL=info (log lines written to a file); ack-path figures with the delivery worker off, "with delivery" against a fake MantaGo (20 ms, PROVIDER_CONCURRENCY=8)',
  ];
  const env = (o: Omit<ServiceEnvOptions, 'dir' | 'lineSecret' | 'api'>) =>
    serviceEnv({ dir, lineSecret: s.lineSecret, api: { tagApi, token: s.mantagoToken, secret: s.mantagoSecret }, ...o });

  try {
    const before = await measureBaseline(dir, s.lineSecret, next, failures);
    const sqlite = await measureEngine((server) => startChild(server, env({ data: `sqlite-${server}` }), dir.logFile(`${server}-sqlite`)), next, failures);
    const pgProblem = await unreachableReason(pgUrl);
    let postgres: EngineFigures | undefined;
    if (!pgProblem) {
      const schemas: string[] = [];
      try {
        postgres = await measureEngine((server) => {
          const schema = freshSchema('ack');
          schemas.push(schema);
          return startChild(server, env({ data: `pg-${server}`, postgres: { url: pgUrl, schema } }), dir.logFile(`${server}-postgres`));
        }, next, failures);
      } finally {
        for (const schema of schemas) await dropSchema(pgUrl, schema);
      }
      conditions.push(`PostgreSQL at ${describeUrl(pgUrl)}, on this machine, a fresh schema per server (dropped afterwards), pool of 10`);
    } else {
      conditions.push(`PostgreSQL part SKIPPED: ${pgProblem}`);
    }
    const after = await measureBaseline(dir, s.lineSecret, next, failures);
    const baseline = (before.max.okPerSecond + after.max.okPerSecond) / 2;
    const baselineCpu = (before.max.cpuMsPerOk + after.max.cpuMsPerOk) / 2;

    printConditions(conditions);
    printSection('Baseline: express + validateSignature + 200', [
      ['max throughput (first, last)', `${fmt(before.max.okPerSecond, 'req/s', 0)}, ${fmt(after.max.okPerSecond, 'req/s', 0)}; mean ${fmt(baseline, 'req/s', 0)} is used for ratios`],
      ['CPU per request', `${fmt(baselineCpu, 'ms', 3)} (server process, during the max runs)`],
      [`open loop ${FIXED_RATE}/s (first, last)`, `${latency(before.paced)}; ${latency(after.paced)}  (what this machine allowed at all, then)`],
    ]);
    const figures: Record<string, Figure> = {
      seconds_per_measurement: SECONDS,
      baseline_rps: round(baseline, 0),
      baseline_rps_first: round(before.max.okPerSecond, 0),
      baseline_rps_last: round(after.max.okPerSecond, 0),
      baseline_cpu_ms_per_request: round(baselineCpu, 3),
      baseline_paced_p50_ms: round(before.paced.p50, 2),
      baseline_paced_p99_ms: round(before.paced.p99, 2),
      baseline_paced_p99_ms_last: round(after.paced.p99, 2),
    };
    for (const [engine, f] of [['sqlite', sqlite], ['postgres', postgres]] as const) {
      if (!f) {
        printSection(`Ack path on ${engine}`, [['skipped', pgProblem ?? '']]);
        figures[`${engine}_skipped`] = pgProblem ?? 'skipped';
        continue;
      }
      const ratio = f.ackMax.okPerSecond / baseline;
      const p99Met = f.paced.p99 <= TARGET_P99_MS && f.fixed.p99 <= TARGET_P99_MS;
      printSection(`Ack path on ${engine} (verify, parse, rules, durable commit, 200; delivery off)`, [
        ['max throughput', `${fmt(f.ackMax.okPerSecond, 'req/s', 0)}  (${latency(f.ackMax)} at ${MAX_CONNECTIONS} connections)`],
        ['ratio to baseline', `${fmt(ratio, '', 2)}  (target ≥ ${TARGET_RATIO}: ${verdict(ratio >= TARGET_RATIO)})`],
        ['CPU per webhook', `${fmt(f.ackMax.cpuMsPerOk, 'ms', 3)}; baseline ÷ this = ${fmt(baselineCpu / f.ackMax.cpuMsPerOk, '', 2)} (the throughput ratio a quiet, CPU-bound machine would show)`],
        [`open loop ${FIXED_RATE}/s`, `${latency(f.paced)}  (sent at ${fmt(f.paced.achievedRate, 'req/s', 0)}; target p99 ≤ ${TARGET_P99_MS} ms: ${verdict(f.paced.p99 <= TARGET_P99_MS)})`],
        [`autocannon overallRate=${FIXED_RATE}`, `${latency(f.fixed)}  (${fmt(f.fixed.okPerSecond, 'req/s', 0)} answered; target p99 ≤ ${TARGET_P99_MS} ms: ${verdict(f.fixed.p99 <= TARGET_P99_MS)})`],
        ['accepted by the service', `${f.counts.accepted} for ${f.counts.answered} 200s seen ${f.counts.agree ? '(agree)' : '(DISAGREE)'}`],
        ['with delivery on: max', `${fmt(f.serviceMax.okPerSecond, 'req/s', 0)}  (ratio ${fmt(f.serviceMax.okPerSecond / baseline, '', 2)}; ${latency(f.serviceMax)})`],
      ]);
      Object.assign(figures, {
        [`${engine}_rps`]: round(f.ackMax.okPerSecond, 0),
        [`${engine}_ratio`]: round(ratio, 3),
        [`${engine}_ratio_target_met`]: ratio >= TARGET_RATIO,
        [`${engine}_cpu_ms_per_webhook`]: round(f.ackMax.cpuMsPerOk, 3),
        [`${engine}_cpu_ratio`]: round(baselineCpu / f.ackMax.cpuMsPerOk, 3),
        [`${engine}_paced_p50_ms`]: round(f.paced.p50, 2),
        [`${engine}_paced_p99_ms`]: round(f.paced.p99, 2),
        [`${engine}_overall_rate_p50_ms`]: round(f.fixed.p50, 2),
        [`${engine}_overall_rate_p99_ms`]: round(f.fixed.p99, 2),
        [`${engine}_overall_rate_rps`]: round(f.fixed.okPerSecond, 0),
        [`${engine}_p99_target_met`]: p99Met,
        [`${engine}_counts_agree`]: f.counts.agree,
        [`${engine}_with_delivery_rps`]: round(f.serviceMax.okPerSecond, 0),
        [`${engine}_with_delivery_ratio`]: round(f.serviceMax.okPerSecond / baseline, 3),
      });
    }
    if (failures.length > 0) printSection('Requests that did not get 200', failures.map((r) => [r.label, JSON.stringify(r.statuses)]));
    figures.non_200_runs = failures.length;
    emitResult('ack', figures);
  } finally {
    await tagApi.close();
    dir.cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
