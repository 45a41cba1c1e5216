import type { RateEstimate } from './rate-estimate';

/** How fast the cap climbs back to the estimate after a 429 (per second, exponential). */
const RECOVERY_PER_SECOND = 3;
/**
 * After a run that paused while the estimate is unsure, the cubic probe doubles the cap in this
 * many seconds (not `probe.unsure`): the cautious estimate is likely well below the limit.
 */
const CLIMB_SECONDS = 3;
/** Once the estimate rests on long evidence and runs pause, the cap aims this fraction below it. */
const PAUSED_MARGIN = 0.015;

/**
 * RateGate's cap (requests/s) `seconds` after the latest run of 429s began or its pause ended:
 * `startFactor` × the estimate then, back at the estimate within about a second, then probing
 * above it by a cubic in the time since — gently where the estimate rests on long evidence
 * (`probe.confident` seconds to double), within seconds where it rests on a few calls only.
 */
export function capCurve(o: {
  estimate: RateEstimate;
  seconds: number;
  startFactor: number;
  /** The estimate rested on long evidence at a run that paused. */
  everConfident: boolean;
  /** The latest run paused while the estimate was unsure. */
  climbing: boolean;
  probe: { confident: number; unsure: number };
}): number {
  const e = o.estimate;
  const below = (1 - o.startFactor) * Math.exp(-RECOVERY_PER_SECOND * o.seconds);
  // Lowered by a 429 after long evidence: still known closely enough to probe gently.
  const scale = e.confident || o.everConfident ? o.probe.confident : o.climbing ? CLIMB_SECONDS : o.probe.unsure;
  const above = (o.seconds / scale) ** 3;
  // Where every run costs a pause, aim a little below an estimate from long evidence: one a
  // little too high empties the bucket in the end (another pause), one a little too low costs
  // only that little.
  const aim = o.everConfident ? e.rate * (1 - PAUSED_MARGIN) : e.rate;
  return Math.max(1, aim * (1 - below + above));
}
