import { RateGate } from '../../../src/delivery/rate-gate';
import { TokenBucket } from '../../helpers/fake-token-bucket';
import { callFrom } from '../../helpers/gate-calls';

const HOUR = 3_600_000;

// The rate gate's other tests are in rate-gate.test.ts (kept under 300 lines).
describe('RateGate: a 429 waits for the calls in flight with it', () => {
  // A rate limiter answers 429 at the API's edge, long before an accepted call's write is done.
  // 8 calls into a full bucket of 5 (100/s): 5 accepted, answered in 30 ms; 3 refused, in 5 ms.
  // Counted at the 429s, the first run looked like a bucket another client had emptied (no
  // estimate, a second's hold) and the second like one that accepted nothing: 1/s, a cap of 1.
  // Now each 429 waits for the calls that started with or before it: 500/s, then 72/s (158/s
  // with Retry-After) — rough, but a pace to start from.
  it.each([
    [false, 50],
    [true, 100],
  ])('a 429 answered before the accepted calls started with it waits for their answers (Retry-After: %s)', (retryAfter, atLeast) => {
    let now = 0;
    const gate = new RateGate({ now: () => now, maxPauseMs: HOUR });
    const bucket = new TokenBucket(100, 5, 0);
    for (let run = 0; run < 2; run++) {
      const t0 = now;
      const calls = Array.from({ length: 8 }, () => {
        const { waitMs, call } = gate.take();
        const started = t0 + waitMs;
        const ok = bucket.take(started) === 0;
        return { call, started, ok, answered: started + (ok ? 30 : 5) };
      });
      let refusedFrom = Infinity;
      for (const c of calls.sort((a, b) => a.answered - b.answered)) {
        now = c.answered;
        if (c.ok && refusedFrom < Infinity && c.started <= refusedFrom) {
          // Waiting for this answer, nothing new goes out, and a Retry-After holds from the 429 on.
          expect(gate.available(8)).toBe(0);
          if (retryAfter) expect(gate.pausedMs()).toBeGreaterThan(950);
        }
        if (c.ok) gate.accepted(c.call);
        else gate.limited(retryAfter ? 1000 : undefined, c.call);
        if (!c.ok) refusedFrom = Math.min(refusedFrom, c.started);
      }
      if (run === 0) expect(calls.filter((c) => c.ok).length).toBe(5);
      expect(gate.limitEstimate).toBeDefined();
      expect(gate.rateCap).toBeGreaterThan(atLeast);
      now += gate.waitMs();
    }
  });

  // The worker tells the gate of every call's end: a 500, a network error or a call not made
  // after all (its lease lost while it waited) is no evidence, but no longer in flight either.
  it.each([
    ['ended otherwise (a 500) is not waited for', true],
    ['is still in flight is waited for', false],
  ])('of the calls started with a 429, one that %s', (_what, ended) => {
    let now = 0;
    const gate = new RateGate({ now: () => now, maxPauseMs: HOUR });
    const calls = Array.from({ length: 10 }, () => gate.take().call);
    now = 20;
    for (let i = 0; i < 8; i++) gate.accepted(calls[i]!);
    if (ended) gate.ended(calls[8]!);
    now = 25;
    gate.limited(undefined, calls[9]!);
    if (ended) {
      expect(gate.limitEstimate).toBeDefined();
      expect(gate.pausedMs()).toBe(0);
    } else {
      // Waiting for the ninth call's answer (at most a second): nothing goes out meanwhile.
      expect(gate.limitEstimate).toBeUndefined();
      expect(gate.pausedMs()).toBe(1000);
    }
  });

  it('waits at most a second for the answers of calls started with a 429 (a slot taken and never used)', () => {
    let now = 0;
    const gate = new RateGate({ now: () => now, maxPauseMs: HOUR });
    const { call } = gate.take();
    gate.take(); // never started: its lease was lost
    now = 5;
    gate.limited(undefined, call);
    expect(gate.waitMs()).toBe(1000);
    now = 1005;
    expect(gate.waitMs()).toBe(0);
    expect(gate.limitEstimate).toBeUndefined(); // nothing accepted: another client emptied the bucket, as before
  });
});

describe('RateGate: a call that takes a slot while a 429 waits for the calls in flight with it', () => {
  // A claim's items take their slots as the claim returns: a 429 heard while it was on its way
  // holds them. Such a first take had no slot to give up, yet it forgot the latest start since
  // the gate was last free — the start of a call in flight with the 429 — and the 429 was weighed
  // before that call's answer, the case the wait is for.
  it('forgets no start of a call in flight: the 429 still waits for every answer', () => {
    let now = 0;
    const gate = new RateGate({ now: () => now, maxPauseMs: HOUR });
    const calls = Array.from({ length: 5 }, () => gate.take());
    expect(calls.every((c) => c.waitMs === 0)).toBe(true);
    now = 5;
    gate.limited(undefined, calls[4]!.call); // the fifth; four started with it are on their way
    now = 6;
    expect(gate.take().waitMs).toBeGreaterThan(0); // a claimed item, held
    now = 30;
    for (let i = 0; i < 3; i++) gate.accepted(calls[i]!.call);
    expect(gate.limitEstimate).toBeUndefined(); // one answer still to come
    expect(gate.pausedMs()).toBeGreaterThan(0);
    gate.accepted(calls[3]!.call);
    expect(gate.pausedMs()).toBe(0);
  });

  // A call whose timer woke late, after a look found the gate free, and found it held (a 503's
  // Retry-After came meanwhile): the slot it had was not forgotten, and the next 429 within 15 s
  // waited a second for a call never made.
  it('forgets the slot a call had when it wakes late to a pause and takes another', () => {
    let now = 0;
    const gate = new RateGate({ now: () => now, maxPauseMs: HOUR });
    for (let i = 0; i < 10; i++) gate.accepted(callFrom(gate, i * 25), i * 25 + 20);
    now = 260;
    gate.limited(undefined, callFrom(gate, 255)); // an estimate: calls paced
    now = 3000;
    const firstCall = gate.take();
    const late = gate.take();
    const first = now + firstCall.waitMs;
    const slot = now + late.waitMs;
    expect(slot).toBeGreaterThan(first);
    now = first + 20;
    gate.accepted(firstCall.call);
    now = slot + 2; // its timer is late: another loop looks meanwhile (free), then a 503 pauses
    expect(gate.pausedMs()).toBe(0);
    now += 1;
    gate.pause(1000);
    now += 1;
    expect(gate.pausedMs()).toBeGreaterThan(0);
    const next = now + gate.take(late.call).waitMs;
    now = next;
    expect(gate.pausedMs()).toBe(0);
    now += 5;
    gate.limited(undefined, late.call); // nothing else in flight: weighed at once
    expect(gate.pausedMs()).toBe(0);
  });

  // Calls that look for a slot while a 429 is weighed get a look again soon, not a place in the
  // pace (there is none yet); OperationWorker takes a new slot at it, so once the run is weighed
  // they go out at the new cap, not all at once.
  it('a slot given while a 429 is weighed is a look again; taken anew once it is weighed, the calls are paced', () => {
    let now = 0;
    const gate = new RateGate({ now: () => now, maxPauseMs: HOUR });
    const calls = Array.from({ length: 10 }, () => gate.take().call);
    now = 20;
    for (let i = 0; i < 8; i++) gate.accepted(calls[i]!);
    now = 25;
    gate.limited(undefined, calls[9]!); // the tenth call's 429; the ninth is still in flight
    now = 26;
    const looks = [gate.take(), gate.take(), gate.take(), gate.take()];
    expect(gate.weighing).toBe(true);
    expect(looks.every((l) => l.waitMs > 0 && l.waitMs <= 10)).toBe(true);
    now = 30;
    gate.accepted(calls[8]!); // the ninth: the run is weighed
    expect(gate.weighing).toBe(false);
    const cap = gate.rateCap!;
    expect(cap).toBeGreaterThan(0);
    now = 36;
    const starts = looks.map((l) => now + gate.take(l.call).waitMs);
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeCloseTo(1000 / cap, 0);
  });
});


describe('RateGate: a call is known by its handle, not by the time of its slot', () => {
  /** Ten calls accepted 25 ms apart, then a 429: calls are paced. */
  function paced() {
    const clock = { now: 0 };
    const gate = new RateGate({ now: () => clock.now, maxPauseMs: HOUR });
    for (let i = 0; i < 10; i++) gate.accepted(callFrom(gate, i * 25), i * 25 + 20);
    clock.now = 260;
    gate.limited(undefined, callFrom(gate, 255));
    clock.now = 3000;
    return { gate, clock };
  }

  // Known by its slot's time, a call told of a start 2 ms before its slot freed another call's
  // start, or none: its slot stayed in flight, and the next 429 held every call a second (c7c30f2).
  it('a call whose timer woke 2 ms before its slot frees its own: a later 429 with nothing in flight is weighed at once', () => {
    const { gate, clock } = paced();
    const first = gate.take();
    const second = gate.take();
    expect(second.waitMs).toBeGreaterThan(2);
    gate.started(first.call);
    clock.now += second.waitMs - 2; // its timer wakes early, and it goes
    gate.started(second.call);
    expect(second.call.startedAt).toBe(clock.now);
    gate.accepted(first.call);
    clock.now += 20;
    gate.accepted(second.call);
    clock.now += 5;
    gate.limited(undefined, callFrom(gate, clock.now - 5));
    expect(gate.pausedMs()).toBe(0);
  });

  // Named by a time read a millisecond before the gate's own (73dbe2a), a retaken slot was missed
  // and the latest start before it went instead: a call still in flight with a 429.
  it('a call that takes a new slot while a 429 is weighed gives up its own, not the start of a call in flight with the 429', () => {
    const { gate, clock } = paced();
    const inFlight = gate.take();
    gate.started(inFlight.call);
    const refused = gate.take();
    clock.now += refused.waitMs;
    gate.started(refused.call);
    clock.now += 5;
    gate.limited(undefined, refused.call); // waits for the call started before it
    clock.now += 1;
    const look = gate.take();
    expect(look.waitMs).toBeGreaterThan(0);
    clock.now += look.waitMs;
    const again = gate.take(look.call);
    expect(again.call).toBe(look.call);
    expect(gate.weighing).toBe(true); // still waiting for the call in flight
    clock.now += 10;
    gate.accepted(inFlight.call);
    expect(gate.weighing).toBe(false);
    // The call that looked again is in flight once, from its new slot: its 429 is weighed at once.
    clock.now += again.waitMs;
    gate.started(again.call);
    clock.now += 5;
    gate.limited(undefined, again.call);
    expect(gate.weighing).toBe(false);
    expect(gate.pausedMs()).toBe(0);
  });
});
