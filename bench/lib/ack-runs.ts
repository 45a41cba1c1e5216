import type { RunningChild } from './child';
import type { SignedWebhook } from './line-webhooks';
import { autocannonWebhooks, pacedWebhooks, type LoadResult } from './load';
import { metricValue } from './service-env';
import { percentile } from './stats';

/** How bench/ack loads a server: the same for every server, so their figures compare. */
export const MAX_CONNECTIONS = 64;
export const FIXED_RATE = 1000;
export const FIXED_CONNECTIONS = 10;
/**
 * Every open loop starts with this many seconds at the same rate over the same connections,
 * not counted (their p99 is reported as the warm-up's): the first requests after the 1 s
 * max-throughput warm-up met new connections, a cold sender and the server's own turn from a
 * flood to a steady rate: a p99 of 40–60 ms for the first 300 ms on the minimal durable SQLite
 * server, 250–450 ms on serve (whose worker then drains the flood's backlog), and that turn,
 * not the steady rate, set a 20 s run's p99. Its own p99 is reported beside the run's.
 */
export const OPEN_LOOP_WARM_UP_SECONDS = 2;

export type Next = () => SignedWebhook;
/**
 * `perSecondP99`: the p99 of the answers to the requests due in each second of the run, in order; `warmUpP99`: the uncounted warm-up's;
 * `cpuMsPerOk`: the server's CPU time (all its threads) per 200 over the warm-up and the run together (both at the same rate).
 */
export type Paced = LoadResult & { achievedRate: number; perSecondP99: number[]; warmUpP99: number; cpuMsPerOk: number };
export type Max = LoadResult & { cpuMsPerOk: number };

export interface Failures {
  label: string;
  statuses: Record<string, number>;
}

/** Load runs against one server; keeps what it needs to check the server's own count afterwards. */
export class Runs {
  answered = 0;
  /** Requests that may have been stored without their 200 being counted (in flight when a run stopped). */
  inFlightAtStop = 0;
  constructor(
    readonly child: RunningChild,
    private readonly next: Next,
    private readonly failures: Failures[],
    private readonly seconds: number,
  ) {}

  private note<R extends LoadResult>(label: string, r: R, connections: number): R {
    this.answered += r.ok;
    this.inFlightAtStop += connections;
    if (r.failed > 0) this.failures.push({ label: `${this.child.name} ${label}`, statuses: r.statuses });
    return r;
  }

  /** Max throughput, and the server's CPU time per 200 during it (a figure the machine's other load barely moves). */
  async max(label: string, durationS = this.seconds): Promise<Max> {
    const before = await this.child.usage();
    const r = await autocannonWebhooks({ url: this.child.url, connections: MAX_CONNECTIONS, durationS, next: this.next });
    const after = await this.child.usage();
    return { ...this.note(label, r, MAX_CONNECTIONS), cpuMsPerOk: (after.cpuMicros - before.cpuMicros) / 1000 / r.ok };
  }

  async overallRate(): Promise<LoadResult> {
    const r = await autocannonWebhooks({ url: this.child.url, connections: FIXED_CONNECTIONS, durationS: this.seconds, overallRate: FIXED_RATE, next: this.next });
    return this.note('overallRate', r, FIXED_CONNECTIONS);
  }

  /** Open loop at FIXED_RATE for `durationS`: latency from each request's scheduled send time. */
  async paced(durationS = this.seconds): Promise<Paced> {
    const bySecond: number[][] = [];
    let first: number | undefined;
    const before = await this.child.usage();
    const r = await pacedWebhooks({
      url: this.child.url, rate: FIXED_RATE, count: FIXED_RATE * durationS, warmUpCount: FIXED_RATE * OPEN_LOOP_WARM_UP_SECONDS, connections: MAX_CONNECTIONS, next: this.next,
      onAnswer: (a) => {
        first ??= a.dueAt;
        (bySecond[Math.floor((a.dueAt - first) / 1000)] ??= []).push(a.ms);
      },
    });
    const after = await this.child.usage();
    // The warm-up's 200s are webhooks the server stored too: the count it is checked against includes them.
    this.answered += r.warmUpOk;
    const cpuMsPerOk = (after.cpuMicros - before.cpuMicros) / 1000 / (r.ok + r.warmUpOk);
    return this.note(`open loop ${durationS} s`, { ...r, perSecondP99: Array.from(bySecond, (ms) => (ms ? percentile(ms, 99) : Number.NaN)), cpuMsPerOk }, 0);
  }

  /** The service's own count of accepted webhooks: at least every 200 seen, at most those plus what was in flight at a stop. */
  async countsAgree(): Promise<{ accepted: number; answered: number; agree: boolean }> {
    const accepted = await metricValue(this.child.url, 'autotag_webhooks_total', { platform: 'line', outcome: 'accepted' });
    return { accepted, answered: this.answered, agree: accepted >= this.answered && accepted <= this.answered + this.inFlightAtStop };
  }
}

/** Starts a server, warms it up for a second, runs `measure`, stops it (also when measuring failed). */
export async function withServer<T>(start: () => Promise<RunningChild>, next: Next, failures: Failures[], seconds: number, measure: (runs: Runs) => Promise<T>): Promise<T> {
  const child = await start();
  try {
    const runs = new Runs(child, next, failures, seconds);
    await runs.max('warm-up', 1);
    return await measure(runs);
  } finally {
    await child.stop();
  }
}
