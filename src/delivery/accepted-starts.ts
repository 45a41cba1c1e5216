/** The accepted calls of an episode kept for the fit (the latest; a long episode's start says little). */
const KEEP_EPISODE_CALLS = 2000;
/** Answers come back out of order, but not by seconds: a search back stops this far before its window. */
const OUT_OF_ORDER_MS = 5000;

/**
 * Start times of the calls an account's API accepted, the last few seconds' worth, in the order
 * their answers came (rate-estimate.ts counts and fits them).
 */
export class AcceptedStarts {
  private starts: number[] = [];

  add(startedAt: number): void {
    this.starts.push(startedAt);
    if (this.starts.length > 8192) this.starts.splice(0, 4096);
  }

  /** The oldest kept. */
  first(): number | undefined {
    return this.starts[0];
  }

  /** Accepted calls that started in [from, to). */
  count(from: number, to: number): number {
    let n = 0;
    for (let i = this.starts.length - 1; i >= 0; i--) {
      const t = this.starts[i] as number;
      if (t >= from && t < to) n++;
      else if (t < from - OUT_OF_ORDER_MS) break;
    }
    return n;
  }

  /** Start times of the accepted calls that started in [from, to), ascending (the latest KEEP_EPISODE_CALLS). */
  between(from: number, to: number): number[] {
    const out: number[] = [];
    for (let i = this.starts.length - 1; i >= 0 && out.length < KEEP_EPISODE_CALLS; i--) {
      const t = this.starts[i] as number;
      if (t >= from && t < to) out.push(t);
      else if (t < from - OUT_OF_ORDER_MS) break;
    }
    return out.sort((a, b) => a - b);
  }

  /**
   * Calls a second accepted from the first accepted call in [from, before) to `before`;
   * undefined with fewer than two.
   */
  pace(from: number, before: number): number | undefined {
    let n = 0;
    let first = before;
    for (let i = this.starts.length - 1; i >= 0; i--) {
      const t = this.starts[i] as number;
      if (t >= from && t < before) {
        n++;
        first = Math.min(first, t);
      } else if (t < before - 6000) break;
    }
    return n >= 2 && before > first ? (n * 1000) / (before - first) : undefined;
  }
}
