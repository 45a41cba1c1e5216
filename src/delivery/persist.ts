/**
 * Records the end of an attempt in the store, trying again while the store is
 * unreachable (a database restart): the call already happened, and dropping its
 * outcome would leave the row leased until the lease expires and the call would
 * be made again. Gives up at `deadline` (the lease's end): then the lease
 * expires and the row comes back by itself, which is the promised fallback.
 */
export async function persistOutcome(
  write: () => Promise<unknown>,
  deadline: number,
  now: () => number,
  onRetry?: (err: unknown) => void,
  /** True once trying again is pointless (the lease was abandoned): the last error is thrown then. */
  giveUp?: () => boolean,
): Promise<void> {
  let delay = 100;
  for (;;) {
    try {
      await write();
      return;
    } catch (err) {
      if (now() + delay >= deadline || giveUp?.()) throw err;
      onRetry?.(err);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 2000);
    }
  }
}
