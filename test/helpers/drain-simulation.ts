import type { GateCall } from '../../src/delivery/call-times';
import { ConcurrencyLimit } from '../../src/delivery/concurrency-limit';
import { ADAPTIVE_CONCURRENCY } from '../../src/delivery/operation-worker';
import { RateGate, type RateGateOptions } from '../../src/delivery/rate-gate';
import { TokenBucket } from './fake-token-bucket';

/**
 * A deterministic, simulated-time drain: one account's queue worked the way OperationWorker and
 * Pump work it (claim what `gate.available` allows into free concurrency slots, `take` a slot,
 * call, tell the gate when it started and the outcome, by the call's handle; a refused operation
 * comes back after max(1 s, Retry-After)), against a token-bucket API with a fixed latency. No
 * timers, no sockets: the same inputs give the same figures, so the rate gate's behaviour can be
 * asserted exactly in unit tests.
 */
export interface DrainSimulation {
  ops: number;
  latencyMs: number;
  /**
   * A refused call's answer takes this long instead of latencyMs (jitter added alike): a real
   * API's rate limiter sits at its edge and answers 429 long before an accepted call's write is
   * done (often 5–10 ms against 50–200 ms). Default latencyMs.
   */
  refusedLatencyMs?: number;
  /** Each answer takes latencyMs plus up to this much more (seeded, so still deterministic); default 2. */
  jitterMs?: number;
  /**
   * A call reaches the API up to this long after its start (default jitterMs): under load, calls
   * started together leave one after another, so the start times the gate sees are bunched.
   */
  sendJitterMs?: number;
  seed?: number;
  /** Calls in flight at most; 'adaptive' as without PROVIDER_CONCURRENCY (concurrency-limit.ts). */
  concurrency: number | 'adaptive';
  /** How long a claim takes (a database round trip): the claimed calls take their slots this much later; default 0. */
  claimMs?: number;
  /**
   * Token bucket; `retryAfter`: answer 429 with the bucket's whole seconds (at least 1).
   * `startTokens`: what the bucket holds when the drain starts (default `burst`, full; 0: just
   * emptied by another client of the account, such as another instance or the one before a restart).
   */
  limit?: { perSecond: number; burst: number; retryAfter: boolean; startTokens?: number };
  /**
   * This share of the calls (drawn from the seeded generator) is refused with a 429 whatever the
   * pace — as by a quota shared with another client — without Retry-After and taking no token.
   */
  refusedAnyway?: number;
  gate?: Partial<Omit<RateGateOptions, 'now'>>;
  /** Stop (and fail) after this much simulated time. */
  maxMs?: number;
  /**
   * The service restarts (a deploy; or the account's caller role goes to another instance) at
   * `atMs`: calls waiting for their slot are not made (their operations stay queued), those in
   * flight end, and `downMs` after the last of them a new gate takes over — started from what the
   * old one had learned when `startFrom` is 'learned' (the latest estimate the API bore out, as
   * the service keeps it in the store; only one that rests on long evidence), fresh when 'none'.
   * A pause still running is honoured (as
   * the pause kept in the store is). The bucket goes on refilling meanwhile.
   */
  restart?: { atMs: number; downMs: number; startFrom: 'learned' | 'none' };
  /**
   * When operation `i` (0-based) is queued, in simulated ms (default: all at 0, a full queue):
   * webhooks still arriving while the drain runs fill the queue gradually.
   */
  arrivalAt?: (i: number) => number;
  /** Record a timeline: per `timelineMs` (default 1000) bucket, calls accepted, refused, runs begun, and the gate's estimate and cap at its end. */
  timeline?: boolean;
  timelineMs?: number;
}

export interface DrainResult {
  /** From the first call to the last accepted one. */
  ms: number;
  rate: number;
  calls: number;
  refused: number;
  /** Runs of refusals (a refusal more than 500 ms after the previous one starts a run). */
  runs: number;
  maxInFlight: number;
  /** The gate's estimate at the end. */
  estimate: number | undefined;
  /** The gate's cap at each refusal run's start (simulated ms, requests/s). */
  caps: { at: number; cap: number | undefined; estimate?: number; source?: string }[];
  /** With `restart`: when the new gate took over, the runs of refusals from then, and the estimate it started from (if any). */
  restarted?: { at: number; runs: number; startedFrom: number | undefined };
  /** With `timeline`: one row per `timelineMs` of simulated time. */
  timeline?: { at: number; accepted: number; refused: number; runs: number; estimate?: number; source?: string; cap?: number }[];
}

type Event = { at: number; seq: number; run: () => void };

/**
 * A binary min-heap: the simulation's events by time (then order of scheduling) and its queued
 * operations by due time. Arrays scanned at every step made a drain of 15,000 operations take
 * seconds of CPU (quadratic); the order things happen in is the same.
 */
class MinHeap<T> {
  private readonly items: T[] = [];
  constructor(private readonly before: (a: T, b: T) => boolean) {}
  get size(): number {
    return this.items.length;
  }
  peek(): T | undefined {
    return this.items[0];
  }
  push(item: T): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(a[i] as T, a[parent] as T)) break;
      [a[i], a[parent]] = [a[parent] as T, a[i] as T];
      i = parent;
    }
  }
  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.before(a[l] as T, a[m] as T)) m = l;
        if (r < a.length && this.before(a[r] as T, a[m] as T)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m] as T, a[i] as T];
        i = m;
      }
    }
    return top;
  }
}

export function simulateDrain(sim: DrainSimulation): DrainResult {
  let now = 0;
  let seq = 0;
  const events = new MinHeap<Event>((a, b) => a.at < b.at || (a.at === b.at && a.seq < b.seq));
  const schedule = (at: number, run: () => void) => {
    events.push({ at, seq: seq++, run });
  };
  // What the gates learned, as the service keeps it in the store: once the API bore it out.
  let confirmed: Parameters<NonNullable<RateGateOptions['onConfirmed']>>[0] | undefined;
  const onConfirmed: RateGateOptions['onConfirmed'] = (learned) => {
    confirmed = learned;
    sim.gate?.onConfirmed?.(learned);
  };
  let gate = new RateGate({ now: () => now, maxPauseMs: 3_600_000, ...sim.gate, onConfirmed });
  // With `restart`: stopping (nothing new is started), then when the new gate took over.
  let stopping = false;
  let restarting = false;
  let restarted: DrainResult['restarted'];
  const bucket = sim.limit ? new TokenBucket(sim.limit.perSecond, sim.limit.burst, 0) : undefined;
  if (bucket !== undefined && sim.limit !== undefined) {
    // Another client of the account took what the bucket held beyond `startTokens` just before.
    for (let i = sim.limit.startTokens ?? sim.limit.burst; i < sim.limit.burst; i++) bucket.take(0);
  }
  const limit = new ConcurrencyLimit(sim.concurrency === 'adaptive' ? ADAPTIVE_CONCURRENCY : { initial: sim.concurrency, max: sim.concurrency });
  const claimMs = sim.claimMs ?? 0;
  let claiming = false;
  // Due times of queued ops. Which of those already due a claim takes does not matter: every
  // one of them stays due, so the smallest are taken.
  const due = new MinHeap<number>((a, b) => a < b);
  for (let i = 0; i < sim.ops; i++) due.push(sim.arrivalAt?.(i) ?? 0);
  let inFlight = 0;
  let maxInFlight = 0;
  let applied = 0;
  let calls = 0;
  let refused = 0;
  let runs = 0;
  let lastRefusedAt = -Infinity;
  let firstCall: number | undefined;
  let lastOk = 0;
  let pumpAt: number | undefined;
  const caps: DrainResult['caps'] = [];
  // A small linear congruential generator: the same seed, the same run.
  let state = (sim.seed ?? 1) >>> 0;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const jitter = sim.jitterMs ?? 2;
  const stepMs = sim.timelineMs ?? 1000;
  const timeline: NonNullable<DrainResult['timeline']> = [];
  const row = () => {
    if (!sim.timeline) return undefined;
    const k = Math.floor(now / stepMs);
    while (timeline.length <= k) timeline.push({ at: timeline.length * stepMs, accepted: 0, refused: 0, runs: 0 });
    const r = timeline[k]!;
    const e = gate.limitEstimate;
    Object.assign(r, { estimate: e?.rate, source: e?.source, cap: gate.rateCap });
    return r;
  };
  const sendJitter = sim.sendJitterMs ?? jitter;

  const call = (handle: GateCall) => {
    const startedAt = now;
    gate.started(handle, startedAt);
    calls++;
    const inFlightThen = inFlight;
    firstCall ??= startedAt;
    // The request reaches the API after a little of the round trip.
    const arrives = startedAt + random() * sendJitter;
    const anyway = sim.refusedAnyway !== undefined && random() < sim.refusedAnyway;
    const wait = anyway || !bucket ? 0 : bucket.take(arrives);
    const ok = wait === 0 && !anyway;
    schedule(arrives + (ok ? sim.latencyMs : sim.refusedLatencyMs ?? sim.latencyMs) + random() * jitter, () => {
      inFlight--;
      limit.record(startedAt, now, ok ? 'ok' : 'limited', inFlightThen);
      const tl = row();
      if (ok) {
        if (tl) tl.accepted++;
        applied++;
        lastOk = now;
        gate.accepted(handle);
      } else {
        refused++;
        if (tl) tl.refused++;
        if (now - lastRefusedAt > 500) {
          runs++;
          if (tl) tl.runs++;
          if (restarted !== undefined) restarted.runs++;
          caps.push({ at: now, cap: gate.rateCap });
        }
        lastRefusedAt = now;
        const retryAfterMs = sim.limit?.retryAfter && !anyway ? wait * 1000 : undefined;
        gate.limited(retryAfterMs, handle);
        const last = caps[caps.length - 1];
        if (last !== undefined) Object.assign(last, { estimate: gate.limitEstimate?.rate, source: gate.limitEstimate?.source });
        due.push(now + Math.max(1000, retryAfterMs ?? 0));
      }
      pump();
      restartOnceIdle();
      row();
    });
  };

  // Pump.run: claim what the gate allows into free slots until none is free, then sleep until woken or due.
  const pump = () => {
    for (;;) {
      if (claiming || stopping) return; // the claim's end pumps again; the new gate's start does too
      const free = limit.limit - inFlight;
      if (free <= 0) return; // a finishing call wakes it
      const wait = gate.waitMs();
      if (wait > 0) return wake(now + wait);
      const available = gate.available(free);
      let taken = 0;
      while (taken < available && (due.peek() ?? Infinity) <= now) {
        due.pop();
        taken++;
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
      }
      if (taken === 0) {
        const next = due.peek();
        if (next !== undefined) wake(Math.max(now + 5, next));
        return;
      }
      const start = () => {
        for (let i = 0; i < taken; i++) startWhenSlot(gate.take());
      };
      if (claimMs <= 0) start();
      else {
        claiming = true;
        schedule(now + claimMs, () => {
          claiming = false;
          start();
          pump();
        });
        return;
      }
    }
  };
  // As OperationWorker: a slot given while a 429 is weighed (or reached while held) is taken anew at it.
  const startWhenSlot = ({ waitMs, call: handle }: { waitMs: number; call: GateCall }, recheck = gate.weighing) => {
    if (waitMs <= 0) return call(handle);
    schedule(now + waitMs, () => {
      if (stopping) return notStarted(handle);
      if (recheck || gate.pausedMs() > 0) startWhenSlot(gate.take(handle));
      else call(handle);
    });
  };
  // Stopping: a call that waited for its slot is not made; its operation stays queued.
  const notStarted = (handle: GateCall) => {
    gate.ended(handle);
    inFlight--;
    due.push(now);
    restartOnceIdle();
  };
  const restart = sim.restart;
  const restartOnceIdle = () => {
    if (restart === undefined || !stopping || inFlight > 0 || restarting) return;
    restarting = true;
    const old = gate;
    const startFrom = restart.startFrom === 'learned' && confirmed?.confident ? confirmed : undefined;
    schedule(now + restart.downMs, () => {
      const pausedMs = old.pausedMs();
      gate = new RateGate({ now: () => now, maxPauseMs: 3_600_000, ...sim.gate, onConfirmed, startFrom });
      gate.pause(pausedMs);
      stopping = false;
      restarting = false;
      restarted = { at: now, runs: 0, startedFrom: startFrom?.rate };
      pump();
    });
  };
  if (restart !== undefined) {
    schedule(restart.atMs, () => {
      stopping = true;
      restartOnceIdle();
    });
  }
  const wake = (at: number) => {
    if (pumpAt !== undefined && pumpAt <= at && pumpAt >= now) return;
    pumpAt = at;
    schedule(at, () => {
      if (pumpAt === at) pumpAt = undefined;
      pump();
    });
  };

  pump();
  const maxMs = sim.maxMs ?? 600_000;
  while (applied < sim.ops) {
    const next = events.pop();
    if (next === undefined) throw new Error(`simulation stalled at ${now} ms with ${applied} of ${sim.ops} applied`);
    now = next.at;
    if (now > maxMs) throw new Error(`simulation ran past ${maxMs} ms with ${applied} of ${sim.ops} applied`);
    next.run();
  }
  const ms = lastOk - (firstCall ?? 0);
  const result: DrainResult = { ms, rate: (sim.ops * 1000) / ms, calls, refused, runs, maxInFlight, estimate: gate.limitEstimate?.rate, caps };
  if (restarted !== undefined) result.restarted = restarted;
  if (sim.timeline) {
    row();
    result.timeline = timeline;
  }
  return result;
}
