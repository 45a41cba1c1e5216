/** Nearest-rank percentile of unsorted samples (p in 0..100); NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

/**
 * The largest sample, or `empty` for none; NaN when any sample is NaN (as Math.max). A loop, not
 * `Math.max(...samples)`: a spread passes every sample as an argument, and the ~120,000 answers of
 * a 3 s max-throughput run on a fast machine overflowed the stack (RangeError) and ended bench:ack.
 */
export function maxOf(samples: readonly number[], empty: number): number {
  let max = empty;
  for (const x of samples) max = Math.max(max, x);
  return max;
}

/** Milliseconds since an arbitrary origin, with sub-millisecond resolution (same clock across a process). */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
