/**
 * Burst memory: a campaign broadcast answered by 100,000 people while the tag API
 * is down. The service must take every webhook (200 only once stored), stay small
 * in memory while the queue is large and the worker keeps failing, and apply every
 * operation once the API is back.
 *
 * The service (`startServer`, its own process, SQLite) gets the events over HTTP as
 * LINE sends them — several events per webhook, from a few dozen connections at once —
 * while the fake MantaGo in this process answers 503 to everything. Its RSS is sampled
 * every 100 ms from start to the last operation applied. Then the API comes back (2 ms
 * per answer) and the distinct operations answered 2xx are counted until all are there.
 *
 * RETRY_MAX_MS is lowered to 2 s so that, once the API is back, no operation sits out
 * a long backoff earned during the outage: the figure is the service's own apply rate,
 * not the retry policy's waiting time.
 *
 * Env: BENCH_BURST_EVENTS (default 100000), BENCH_BURST_EVENTS_PER_WEBHOOK (default 10), BENCH_CPU_PROF=DIR.
 */
import { Pool } from 'undici';
import { benchSecrets, createBenchDir, machineLine } from './lib/bench-env';
import { sampleMemory, startChild, type RunningChild } from './lib/child';
import type { ChildUsage } from './lib/child-protocol';
import { CountingTagApi } from './lib/counting-tag-api';
import { createLineWebhooks } from './lib/line-webhooks';
import { emitResult, fmt, printConditions, printSection, round, verdict } from './lib/report';
import { serviceEnv } from './lib/service-env';
import { nowMs } from './lib/stats';

const EVENTS = Number(process.env.BENCH_BURST_EVENTS ?? 100_000);
const PER_WEBHOOK = Number(process.env.BENCH_BURST_EVENTS_PER_WEBHOOK ?? 10);
const CONNECTIONS = 32;
const TARGET_RSS_MB = 200;
const MB = 1024 * 1024;

/** Posts `webhooks` webhooks as fast as the service takes them over `CONNECTIONS` connections; returns the statuses seen. */
async function postAll(url: string, webhooks: number, next: ReturnType<typeof createLineWebhooks>['next']): Promise<Record<string, number>> {
  const pool = new Pool(url, { connections: CONNECTIONS, keepAliveTimeout: 10_000 });
  const statuses: Record<string, number> = {};
  let sent = 0;
  const worker = async () => {
    while (sent < webhooks) {
      sent++;
      const w = next();
      try {
        const res = await pool.request({ method: 'POST', path: '/webhooks/line', body: w.body, headers: { 'content-type': 'application/json; charset=utf-8', 'x-line-signature': w.signature } });
        await res.body.dump();
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
      } catch (err) {
        const key = `error ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
        statuses[key] = (statuses[key] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  await pool.close();
  return statuses;
}

/** About a dozen evenly spaced samples, in MB: enough to see a trend or a leak. */
function timeline(mb: number[]): string {
  const step = Math.max(1, Math.floor(mb.length / 12));
  return mb.filter((_, i) => i % step === 0 || i === mb.length - 1).map((v) => v.toFixed(0)).join(' → ') + ' MB';
}

/** Posts the burst while the API is down, brings the API back, waits until everything is applied; samples memory throughout. */
async function burstThenRecover(child: RunningChild, tagApi: CountingTagApi, lineSecret: string, webhooks: number, events: number) {
  const atStart = await child.usage();
  const sampler = sampleMemory(child, 100);
  try {
    const hooks = createLineWebhooks({ secret: lineSecret, eventsPerWebhook: PER_WEBHOOK });
    const t0 = nowMs();
    const statuses = await postAll(child.url, webhooks, hooks.next);
    const acceptS = (nowMs() - t0) / 1000;
    const afterBurst = await child.usage();
    const downCounts = tagApi.snapshot();
    tagApi.resetCounts();
    tagApi.down = false;
    const t1 = nowMs();
    await tagApi.waitForApplied(events, 600_000);
    const applyS = (nowMs() - t1) / 1000;
    return { statuses, acceptS, applyS, downCounts, atStart, afterBurst, memory: await sampler.stop() };
  } catch (err) {
    await sampler.stop();
    throw err;
  }
}

async function main(): Promise<void> {
  const dir = createBenchDir('burst');
  const s = benchSecrets();
  const tagApi = await CountingTagApi.start({ latencyMs: 2, token: s.mantagoToken });
  tagApi.down = true;
  const webhooks = Math.ceil(EVENTS / PER_WEBHOOK);
  const events = webhooks * PER_WEBHOOK;
  try {
    const child = await startChild(
      'service',
      serviceEnv({ dir, data: 'burst', lineSecret: s.lineSecret, api: { tagApi, token: s.mantagoToken, secret: s.mantagoSecret }, extra: { RETRY_MAX_MS: '2000' } }),
      dir.logFile('service'),
      { exposeGc: true },
    );
    let run: Awaited<ReturnType<typeof burstThenRecover>>;
    let retained: ChildUsage;
    try {
      run = await burstThenRecover(child, tagApi, s.lineSecret, webhooks, events);
      // After the peak was measured: what the process still holds once garbage is collected.
      retained = await child.usage({ fullGc: true });
    } finally {
      await child.stop();
    }
    const { statuses, acceptS, applyS, downCounts, memory, atStart, afterBurst } = run;
    const applied = tagApi.snapshot();
    const accepted = statuses['200'] ?? 0;
    const peakMb = memory.peakRss / MB;
    printConditions([
      machineLine(),
      `${events.toLocaleString('en-US')} LINE text events in ${webhooks.toLocaleString('en-US')} webhooks of ${PER_WEBHOOK}, each event from its own user and matching a rule (one tag operation each, nothing to coalesce), posted over ${CONNECTIONS} keep-alive connections as fast as they are answered`,
      'the service in its own process on SQLite with the V8 heap flag of `npm start` (--max-old-space-size=192), LOG_LEVEL=info (log lines to a file), PROVIDER_CONCURRENCY=8, RETRY_MIN_MS=1000, RETRY_MAX_MS=2000',
      'the fake MantaGo (this process) answers 503 until every webhook was answered, then 200 after 2 ms',
      `memory of the service process sampled every 100 ms (${memory.samples.length} samples), from start to the last operation applied`,
    ]);
    printSection('Burst while the tag API is down', [
      ['webhooks answered', `${JSON.stringify(statuses)} in ${fmt(acceptS, 's')} (${fmt(events / acceptS, 'events/s', 0)})`],
      ['calls that met the outage', `${downCounts.calls.toLocaleString('en-US')} (all 503)`],
      ['RSS at start', `${fmt(atStart.rss / MB, 'MB')} (heap used ${fmt(atStart.heapUsed / MB, 'MB')})`],
      ['RSS after the burst', `${fmt(afterBurst.rss / MB, 'MB')} (heap used ${fmt(afterBurst.heapUsed / MB, 'MB')}, total ${fmt(afterBurst.heapTotal / MB, 'MB')})`],
      ['RSS over time', timeline(memory.samples.map((u) => u.rss / MB))],
      ['peak RSS', `${fmt(peakMb, 'MB')}  (target < ${TARGET_RSS_MB} MB: ${verdict(peakMb < TARGET_RSS_MB)}); peak heap used ${fmt(memory.peakHeapUsed / MB, 'MB')}, garbage included`],
    ]);
    printSection('After the API came back', [
      ['applied', `${applied.applied.toLocaleString('en-US')} of ${events.toLocaleString('en-US')} operations${applied.repeated ? `, ${applied.repeated} applied twice` : ''}`],
      ['retained at the end', `heap ${fmt(retained.heapUsed / MB, 'MB')} after a full GC${retained.collected ? '' : ' (NOT collected: no --expose-gc)'}, RSS ${fmt(retained.rss / MB, 'MB')} (heap at start ${fmt(atStart.heapUsed / MB, 'MB')} before any GC)`],
      ['time to apply', `${fmt(applyS, 's')} (${fmt(applied.applied / applyS, 'ops/s', 0)})`],
    ]);
    emitResult('burst', {
      events,
      webhooks,
      accepted_webhooks: accepted,
      all_accepted: accepted === webhooks,
      accept_seconds: round(acceptS, 1),
      outage_calls: downCounts.calls,
      rss_start_mb: round(atStart.rss / MB, 1),
      heap_used_peak_mb: round(memory.peakHeapUsed / MB, 1),
      heap_retained_end_mb: retained.collected ? round(retained.heapUsed / MB, 1) : null,
      rss_peak_mb: round(peakMb, 1),
      rss_target_met: peakMb < TARGET_RSS_MB,
      applied: applied.applied,
      all_applied: applied.applied === events,
      repeated: applied.repeated,
      apply_seconds: round(applyS, 1),
      apply_rate: round(applied.applied / applyS, 0),
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
