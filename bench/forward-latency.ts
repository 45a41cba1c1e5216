/**
 * Forward latency: with a healthy downstream, how long from the moment a LINE webhook
 * reaches the service until the downstream (the brand's existing bot) receives it.
 *
 * - the service (`startServer`, its own process, SQLite, LINE_FORWARD_URLS set): the
 *   webhook is stored with its forward in one transaction, answered 200, then sent by
 *   the forward worker.
 * - baseline: an express handler that checks the signature and sends the raw body to
 *   the downstream inline (undici, keep-alive) before answering — in the same run.
 *
 * This process sends the webhooks at a steady rate (open loop) and is the downstream,
 * so both ends are read on one clock (sub-millisecond): latency = downstream receipt −
 * the moment the webhook was sent. On loopback that moment is the service's receipt
 * within tens of microseconds. The delivery worker also applies the tag operations,
 * against a fake MantaGo with 20 ms latency, as in production.
 *
 * Env: BENCH_FORWARD_RATE (default 200/s), BENCH_FORWARD_SECONDS (default 10), BENCH_CPU_PROF=DIR.
 */
import { benchSecrets, createBenchDir, machineLine } from './lib/bench-env';
import { startChild, type RunningChild } from './lib/child';
import { CountingTagApi } from './lib/counting-tag-api';
import { Downstream } from './lib/downstream';
import { createLineWebhooks } from './lib/line-webhooks';
import { pacedWebhooks } from './lib/load';
import { emitResult, fmt, printConditions, printSection, round } from './lib/report';
import { serviceEnv } from './lib/service-env';
import { maxOf, percentile } from './lib/stats';

const RATE = Number(process.env.BENCH_FORWARD_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_FORWARD_SECONDS ?? 10);
const USERS = 500;

interface Measured {
  p50: number;
  p99: number;
  max: number;
  ackP50: number;
  ackP99: number;
  sent: number;
  arrived: number;
  non200: number;
}

async function measure(start: (downstreamUrl: string) => Promise<RunningChild>, lineSecret: string): Promise<Measured> {
  const downstream = await Downstream.start();
  const child = await start(downstream.url);
  try {
    const hooks = createLineWebhooks({ secret: lineSecret, users: USERS });
    // One second of the same traffic first, not counted: connections, JIT and the store's first pages.
    await pacedWebhooks({ url: child.url, rate: RATE, count: RATE, connections: 16, next: hooks.next });
    await downstream.waitFor(RATE, 30_000);
    const sentAt = new Map<string, number>();
    const count = RATE * SECONDS;
    const ack = await pacedWebhooks({
      url: child.url,
      rate: RATE,
      count,
      connections: 16,
      next: hooks.next,
      onSent: (w, dueAt) => sentAt.set(w.eventIds[0] as string, dueAt),
    });
    await downstream.waitFor(RATE + count, 30_000);
    const latencies = [...sentAt].map(([id, at]) => (downstream.arrivals.get(id) ?? Number.NaN) - at);
    return {
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: maxOf(latencies, -Infinity),
      ackP50: ack.p50,
      ackP99: ack.p99,
      sent: count,
      arrived: [...sentAt.keys()].filter((id) => downstream.arrivals.has(id)).length,
      non200: ack.failed,
    };
  } finally {
    await child.stop();
    await downstream.close();
  }
}

async function main(): Promise<void> {
  const dir = createBenchDir('forward');
  const s = benchSecrets();
  const tagApi = await CountingTagApi.start({ latencyMs: 20, token: s.mantagoToken });
  try {
    const baseline = await measure((url) => startChild('inline-forward', { LINE_CHANNEL_SECRET: s.lineSecret, LINE_FORWARD_URLS: url }, dir.logFile('inline-forward')), s.lineSecret);
    const service = await measure(
      (url) =>
        startChild(
          'service',
          serviceEnv({ dir, data: 'forward', lineSecret: s.lineSecret, api: { tagApi, token: s.mantagoToken, secret: s.mantagoSecret }, extra: { LINE_FORWARD_URLS: url } }),
          dir.logFile('service'),
        ),
      s.lineSecret,
    );
    printConditions([
      machineLine(),
      `${RATE} webhooks/s for ${SECONDS} s (open loop, 16 keep-alive connections), one LINE text event each, ${USERS} users (ordering keys), every one matching a rule`,
      'servers in their own processes; this process sends and is the downstream (answers 200 at once); latency = downstream receipt − send time, one clock',
      'the service on SQLite with LOG_LEVEL=info, FORWARD_CONCURRENCY=8, the delivery worker applying tag operations against a fake MantaGo (20 ms)',
    ]);
    const rows = (m: Measured): [string, string][] => [
      ['receipt → downstream', `p50 ${fmt(m.p50, 'ms', 2)}, p99 ${fmt(m.p99, 'ms', 2)}, max ${fmt(m.max, 'ms', 1)}`],
      ['ack (send → 200)', `p50 ${fmt(m.ackP50, 'ms', 2)}, p99 ${fmt(m.ackP99, 'ms', 2)}`],
      ['arrived downstream', `${m.arrived} of ${m.sent}${m.non200 ? `; ${m.non200} not answered 200` : ''}`],
    ];
    printSection('Baseline: inline forward from the express handler', rows(baseline));
    printSection('Service: durable forward by the worker', rows(service));
    printSection('Added by the durable path', [
      ['p50', `${fmt(service.p50 - baseline.p50, 'ms', 2)}  (${fmt(service.p50 / baseline.p50, '×', 1)})`],
      ['p99', `${fmt(service.p99 - baseline.p99, 'ms', 2)}  (${fmt(service.p99 / baseline.p99, '×', 1)})`],
    ]);
    emitResult('forward-latency', {
      rate: RATE,
      seconds: SECONDS,
      service_p50_ms: round(service.p50, 2),
      service_p99_ms: round(service.p99, 2),
      service_max_ms: round(service.max, 1),
      baseline_p50_ms: round(baseline.p50, 2),
      baseline_p99_ms: round(baseline.p99, 2),
      added_p50_ms: round(service.p50 - baseline.p50, 2),
      added_p99_ms: round(service.p99 - baseline.p99, 2),
      service_ack_p99_ms: round(service.ackP99, 2),
      baseline_ack_p99_ms: round(baseline.ackP99, 2),
      all_arrived: service.arrived === service.sent && baseline.arrived === baseline.sent,
    });
  } finally {
    await tagApi.close();
    dir.cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
