import autocannon from 'autocannon';
import { Pool } from 'undici';
import type { SignedWebhook } from './line-webhooks';
import { maxOf, nowMs, percentile } from './stats';

export interface LoadResult {
  /** 2xx answers per second over the run. */
  okPerSecond: number;
  ok: number;
  /** Answers other than 2xx, and connection errors/timeouts. */
  failed: number;
  statuses: Record<string, number>;
  durationS: number;
  /** Milliseconds, raw per-response times (no coordinated-omission filling). */
  p50: number;
  p99: number;
  max: number;
}

/**
 * Closed-loop load with autocannon: `connections` clients each send the next
 * webhook as soon as the previous one was answered (`overallRate` set: autocannon
 * lets each connection send its share of every second, then pauses it until the
 * next second). Every request is a fresh signed webhook from `next()`.
 */
export async function autocannonWebhooks(o: {
  url: string;
  connections: number;
  durationS: number;
  overallRate?: number;
  next: () => SignedWebhook;
}): Promise<LoadResult> {
  const times: number[] = [];
  const instance = autocannon({
    url: `${o.url}/webhooks/line`,
    connections: o.connections,
    duration: o.durationS,
    timeout: 10,
    ...(o.overallRate ? { overallRate: o.overallRate } : {}),
    requests: [
      {
        method: 'POST',
        setupRequest: (req) => {
          const w = o.next();
          return { ...req, method: 'POST', path: '/webhooks/line', body: w.body, headers: { 'content-type': 'application/json; charset=utf-8', 'x-line-signature': w.signature } };
        },
      },
    ],
  });
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status >= 200 && status < 300) times.push(ms);
  });
  const r = await instance;
  const failed = r.non2xx + r.errors + r.timeouts;
  const statuses: Record<string, number> = {};
  for (const [code, s] of Object.entries(r.statusCodeStats)) statuses[code] = Number(s.count);
  return {
    okPerSecond: r['2xx'] / r.duration,
    ok: r['2xx'],
    failed,
    statuses,
    durationS: r.duration,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    max: maxOf(times, 0),
  };
}

/**
 * Open-loop load at a fixed rate: request i is due at start + i/rate and is sent
 * then, whether or not earlier ones were answered (up to `connections` in flight
 * over keep-alive; more wait for a free connection, and that wait counts). Latency
 * is measured from the moment a request was due, so a slow server cannot hide its
 * slowness by delaying the load (no coordinated omission).
 */
export async function pacedWebhooks(o: {
  url: string;
  rate: number;
  count: number;
  connections: number;
  next: () => SignedWebhook;
  /**
   * Sent first, at the same rate over the same connections, and left out of every figure but
   * `warmUpP99` and `failed` (and of onSent/onAnswer): the sender's connections open and its
   * code warm before the `count` requests that are measured.
   */
  warmUpCount?: number;
  /** Told when each webhook was due and sent (the `now` clock of stats.ts). */
  onSent?: (w: SignedWebhook, dueAt: number) => void;
  /** Told of every answer: when it was due, how late it went out, and its latency from due time. */
  onAnswer?: (a: { dueAt: number; sendLagMs: number; ms: number; status: number }) => void;
}): Promise<LoadResult & { achievedRate: number; warmUpP99: number; warmUpOk: number }> {
  const pool = new Pool(o.url, { connections: o.connections, keepAliveTimeout: 10_000 });
  const warm = o.warmUpCount ?? 0;
  const warmTimes: number[] = [];
  const total = warm + o.count;
  const times: number[] = [];
  const statuses: Record<string, number> = {};
  let failed = 0;
  let ok = 0;
  const start = nowMs() + 20;
  const interval = 1000 / o.rate;
  const inFlight: Promise<void>[] = [];
  let i = 0;
  let firstSent = 0;
  let lastSent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = nowMs();
      while (i < total && start + i * interval <= now) {
        const dueAt = start + i * interval;
        const measured = i >= warm;
        const w = o.next();
        if (measured) o.onSent?.(w, dueAt);
        lastSent = nowMs();
        if (i === warm) firstSent = lastSent;
        const sendLagMs = lastSent - dueAt;
        inFlight.push(
          pool
            .request({ method: 'POST', path: '/webhooks/line', body: w.body, headers: { 'content-type': 'application/json; charset=utf-8', 'x-line-signature': w.signature } })
            .then(async (res) => {
              await res.body.dump();
              const ms = nowMs() - dueAt;
              const good = res.statusCode >= 200 && res.statusCode < 300;
              if (!measured) {
                // A warm-up request that failed still counts as failed: warming up hides nothing.
                if (good) warmTimes.push(ms);
                else failed++;
                return;
              }
              o.onAnswer?.({ dueAt, sendLagMs, ms, status: res.statusCode });
              statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
              if (good) {
                ok++;
                times.push(ms);
              } else failed++;
            })
            .catch(() => void failed++),
        );
        i++;
      }
      if (i >= total) {
        resolve();
        return;
      }
      setTimeout(tick, Math.max(0, start + i * interval - nowMs()));
    };
    tick();
  });
  await Promise.all(inFlight);
  const durationS = (nowMs() - (start + warm * interval)) / 1000;
  await pool.close();
  return {
    okPerSecond: ok / durationS,
    // How fast requests actually went out (below `rate` when this process could not keep up).
    achievedRate: o.count > 1 && lastSent > firstSent ? (o.count - 1) / ((lastSent - firstSent) / 1000) : Number.NaN,
    // NaN without a warm-up (percentile of no samples).
    warmUpP99: percentile(warmTimes, 99),
    warmUpOk: warmTimes.length,
    ok,
    failed,
    statuses,
    durationS,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    max: maxOf(times, 0),
  };
}
