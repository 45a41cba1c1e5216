import type { GateCall } from '../../src/delivery/call-times';
import type { RateGate } from '../../src/delivery/rate-gate';

/**
 * A call the gate hears of with its answer, as tests tell it a history: given a slot now (its
 * wait ignored, as the calls went out at the pace the test says) and started at `startedAt`.
 * Answered at once, it is in flight with nothing.
 */
export function callFrom(gate: RateGate, startedAt: number): GateCall {
  const { call } = gate.take();
  gate.started(call, startedAt);
  return call;
}
