/** Pause ends kept (the latest before an answer bounds the second its pace is counted over). */
const KEEP = 4;

/**
 * When an account's latest pauses end (ascending). Nothing is sent while one lasts, so a paused
 * stretch says nothing of the pace the API accepts (rate-estimate.ts counts from the end of the
 * latest one).
 */
export class PauseEnds {
  private readonly ends: number[] = [];

  /** A pause until `until`, known at `now`: one still under way at `now` is lengthened, not counted again. */
  add(until: number, now: number): void {
    const last = this.ends.length - 1;
    const latest = this.ends[last];
    if (latest !== undefined && latest > now) this.ends[last] = Math.max(latest, until);
    else this.ends.push(until);
    if (this.ends.length > KEEP) this.ends.shift();
  }

  /** The end of the latest pause that ended by `t` (-Infinity: none). */
  latestBy(t: number): number {
    for (let i = this.ends.length - 1; i >= 0; i--) if ((this.ends[i] as number) <= t) return this.ends[i] as number;
    return -Infinity;
  }
}
