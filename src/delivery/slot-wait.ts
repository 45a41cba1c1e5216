import type { GateCall } from './call-times';
import type { RateGate } from './rate-gate';

/**
 * Takes a slot of the gate for one call and waits for it (OperationWorker; the drain simulation
 * follows the same steps in simulated time).
 *
 * The gate knows the call by its handle until told how it ended, and places it by when it
 * started (`RateGate.started`): when a timer wakes does not matter to the gate. The call still
 * waits out its slot, for the pace (a timer that wakes early waits the rest). One that reaches
 * its slot while calls are held (a Retry-After came meanwhile) takes a new one, as does one given
 * while a 429 was weighed: a look again, not a place in the pace, or the calls that waited would
 * all start together once it is weighed.
 *
 * A lease that ends meanwhile (`signal`: its call deadline, a lost session, stopping) ends the
 * wait at once: a long pause must not keep a call waiting for a slot it can no longer use. The
 * caller tells the gate the call `ended` then.
 */
export async function waitForSlot(gate: RateGate, signal: AbortSignal, now: () => number): Promise<GateCall> {
  const { waitMs, call } = gate.take();
  let slot = now() + waitMs;
  let recheck = gate.weighing;
  for (let t = now(); t < slot && !signal.aborted; t = now()) {
    await waitOrAbort(Math.max(1, Math.ceil(slot - t)), signal);
    if (now() >= slot && (recheck || gate.pausedMs() > 0)) {
      slot = now() + gate.take(call).waitMs;
      recheck = gate.weighing;
    }
  }
  return call;
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
function waitOrAbort(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    if (signal.aborted) done();
    else signal.addEventListener('abort', done, { once: true });
  });
}
