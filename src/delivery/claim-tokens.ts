/**
 * Lease owners, one per claim.
 *
 * With PostgreSQL a claim can commit on the server while its answer is lost (the
 * connection dropped mid-reply). The rows are then leased to this process, which
 * does not know it holds them, and they would wait for the lease to expire. Each
 * claim therefore leases under a token of its own; the token of a claim that failed
 * is released as soon as the store answers again, which frees exactly those rows
 * and never a row this process is working on (or another instance's).
 */
export class ClaimTokens {
  private seq = 0;
  /** Tokens with rows still being worked on, and how many. */
  private readonly live = new Map<string, number>();
  /** Tokens of claims that failed: they may hold rows nobody works on. */
  private readonly orphaned = new Set<string>();
  /** Tokens of claims whose session was lost: orphaned once none of their rows is in hand. */
  private readonly abandoned = new Set<string>();

  constructor(private readonly owner: string) {}

  next(): string {
    this.seq += 1;
    return `${this.owner}#${this.seq}`;
  }

  claimed(token: string, rows: number): void {
    if (rows > 0) this.live.set(token, (this.live.get(token) ?? 0) + rows);
  }

  /** One row of `token` is finished (settled, or handed back). */
  settled(token: string): void {
    const left = (this.live.get(token) ?? 1) - 1;
    if (left > 0) {
      this.live.set(token, left);
      return;
    }
    this.live.delete(token);
    if (this.abandoned.delete(token)) this.orphaned.add(token);
  }

  /**
   * The session `token`'s claim was made under is lost: rows of it that were not
   * settled are released like those of a failed claim, once no call for them runs.
   */
  abandon(token: string): void {
    if (this.live.has(token)) this.abandoned.add(token);
  }

  failed(token: string): void {
    this.orphaned.add(token);
  }

  get hasOrphans(): boolean {
    return this.orphaned.size > 0;
  }

  /** Releases the rows of failed claims; a token stays listed until its release succeeded. */
  async releaseOrphans(release: (token: string) => Promise<number>): Promise<number> {
    let released = 0;
    for (const token of [...this.orphaned]) {
      released += await release(token);
      this.orphaned.delete(token);
    }
    return released;
  }

  /** Every token that may still hold a lease (for shutdown). */
  all(): string[] {
    return [...new Set([...this.live.keys(), ...this.orphaned])];
  }
}
