/**
 * Fits a token bucket (R tokens a second, at most B saved) to episodes that each began with a
 * full bucket and ended with its first refused call.
 *
 * For a candidate R, the calls an episode had accepted say how big the bucket must have been:
 * it was last full at some moment τ, and from then to the refusal the accepted calls used up B
 * plus what came back meanwhile, so B(R) = max over τ of (accepted since τ − R × time since τ).
 * That holds whatever the pace was — below the limit the bucket simply stayed full. For the true
 * R every episode gives the same B; so R is where the episodes agree, and the fit is kept only
 * when they would visibly disagree 10 % away from it (two episodes paced alike cannot tell), and
 * do not agree as well at a rate more than 10 % higher (both would explain every call they saw,
 * and a fit too low is the one no 429 corrects).
 */
export interface BucketEpisode {
  /** Start times of the calls accepted in the episode, ascending (epoch ms). */
  accepted: readonly number[];
  /** Start time of the call refused first. */
  refusedAt: number;
}

const MIN_LONG_EPISODE_MS = 1000;
/** Tokens: how far apart episodes may be at the fit (counts are whole calls). */
const AGREE = 2;
/** … and how far apart they must be 10 % away from it. */
const DISAGREE_AWAY = 2.5;

/** The bucket size episode `e` implies for `rate` (requests/s). */
export function impliedBurst(e: BucketEpisode, rate: number): number {
  const perMs = rate / 1000;
  let best = 0;
  const n = e.accepted.length;
  for (let k = 0; k < n; k++) {
    const b = n - k - perMs * (e.refusedAt - (e.accepted[k] as number));
    if (b > best) best = b;
  }
  return best;
}

function spreadAt(episodes: readonly BucketEpisode[], rate: number): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (const e of episodes) {
    const b = impliedBurst(e, rate);
    lo = Math.min(lo, b);
    hi = Math.max(hi, b);
  }
  return hi - lo;
}

/**
 * Every episode ran its bucket empty, so R lies below the fastest pace each one reached over its
 * last ten calls or more; the scan stops at the lowest of these. (Without the bound, a huge R
 * with a one-token bucket "agrees" with everything.)
 */
function upperBound(episodes: readonly BucketEpisode[]): number {
  let bound = Infinity;
  for (const e of episodes) {
    let fastest = 0;
    const n = e.accepted.length;
    for (let k = 0; k + 10 <= n; k++) {
      const ms = e.refusedAt - (e.accepted[k] as number);
      if (ms > 0) fastest = Math.max(fastest, ((n - k) * 1000) / ms);
    }
    if (fastest > 0) bound = Math.min(bound, fastest);
  }
  return bound;
}

/** R and B that the episodes agree on, or undefined when they cannot tell (or contradict each other). */
export function fitTokenBucket(episodes: readonly BucketEpisode[]): { rate: number; burst: number } | undefined {
  // Start times are the client's, off by a few ms under load: only an episode of a second or
  // more (hundreds of calls) makes that noise small against what the fit reads from it.
  if (episodes.length < 2 || !episodes.some((e) => e.refusedAt - (e.accepted[0] ?? e.refusedAt) >= MIN_LONG_EPISODE_MS)) return undefined;
  const maxRate = upperBound(episodes);
  if (!(maxRate > 1) || !Number.isFinite(maxRate)) return undefined;
  // A coarse scan (2 % steps), then 0.2 % steps around the best.
  let best = 1;
  let bestSpread = Infinity;
  const coarse: { rate: number; spread: number }[] = [];
  for (let r = 1; r <= maxRate; r *= 1.02) {
    const s = spreadAt(episodes, r);
    coarse.push({ rate: r, spread: s });
    if (s < bestSpread) [best, bestSpread] = [r, s];
  }
  const refined = (around: number): { rate: number; spread: number } => {
    let at = { rate: around, spread: spreadAt(episodes, around) };
    for (let r = around / 1.02, to = Math.min(around * 1.02, maxRate); r <= to; r *= 1.002) {
      const s = spreadAt(episodes, r);
      if (s < at.spread) at = { rate: r, spread: s };
    }
    return at;
  };
  ({ rate: best, spread: bestSpread } = refined(best));
  if (bestSpread > AGREE) return undefined;
  // The lowest rate that agrees about as well (counts are whole calls), less 0.5 %: a cap a
  // little above the limit empties the bucket in the end, one a little below costs little.
  let low = best;
  while (low / 1.002 > 1 && spreadAt(episodes, low / 1.002) <= bestSpread + 0.5) low /= 1.002;
  const rate = low * 0.995;
  // Above, the bound itself may be what rules faster rates out.
  if (spreadAt(episodes, rate * 0.9) < DISAGREE_AWAY || (rate * 1.1 < maxRate && spreadAt(episodes, rate * 1.1) < DISAGREE_AWAY)) return undefined;
  // Two episodes may agree at two rates far apart, each explaining every call both saw (a drain
  // that went out at its webhooks' pace, then a climb from half of it, agreed at 0.72 × the limit
  // with a bucket of 3.5 × its size, as well as at the limit): which one the scan took was luck.
  // A fit too low is the costly one — probed gently, it meets no 429 to correct it, while one too
  // high soon does — so a fit that agrees as well more than 10 % higher up waits for an episode
  // that tells them apart.
  for (let i = 0; i < coarse.length; i++) {
    const c = coarse[i] as { rate: number; spread: number };
    if (c.rate < rate * 1.1) continue;
    const prev = coarse[i - 1]?.spread ?? Infinity;
    const next = coarse[i + 1]?.spread;
    // Only a dip between rates that agree worse: near the bound every size shrinks towards none.
    if (next === undefined || c.spread > prev || c.spread > next) continue;
    const other = refined(c.rate);
    if (other.spread <= AGREE && other.rate < maxRate / 1.02 && other.rate > rate * 1.1) return undefined;
  }
  return { rate, burst: impliedBurst(episodes[episodes.length - 1] as BucketEpisode, rate) };
}
