import { answerWithin } from './answer-within';

/**
 * Whether the store can commit now, for /readyz (CONTRACT.md: a store whose last write
 * failed — disk full, read-only — is not ready). A read (`SELECT 1`) succeeds on a full
 * disk or a read-only database while every webhook gets 503, so readiness is decided by
 * writes: the last accept's outcome, or else a small write probe. Either is trusted for
 * CACHE_MS, so readiness checks cost at most one write per CACHE_MS and turn ready again
 * within CACHE_MS of the space being freed.
 */
export const COMMIT_PROBE_CACHE_MS = 2_000;

/**
 * How long a readiness check waits for its write probe. A database that stops answering
 * (a silent network partition) would otherwise hold each check until the query's read
 * timeout, 6–11 s, past most probes' own timeouts; a store that cannot commit within LINE's
 * 2-second webhook deadline is not ready either way. The probe itself goes on, and its
 * outcome is what the next check sees.
 */
export const COMMIT_PROBE_WAIT_MS = 2_000;

/** About one database page: a probe needs room for as much as a small webhook does. */
const PROBE_PAD = 'p'.repeat(4096);

export interface CommitProbe {
  /** Resolves when the store could commit within the last CACHE_MS (probing if it does not know); rejects with the failure otherwise. */
  check(): Promise<void>;
  /** A real write's outcome: `undefined` when it committed, else why it failed. */
  record(error: unknown): void;
}

export function createCommitProbe(write: (value: string) => Promise<void>, now: () => number = Date.now): CommitProbe {
  let known: { at: number; error: unknown } | undefined;
  let probing: Promise<void> | undefined;

  async function probe(): Promise<void> {
    const at = now();
    try {
      await write(`${at} ${PROBE_PAD}`);
      known = { at, error: undefined };
    } catch (err) {
      known = { at, error: err ?? new Error('the write probe failed') };
    }
  }

  return {
    async check() {
      if (!known || now() - known.at >= COMMIT_PROBE_CACHE_MS) {
        probing ??= probe().finally(() => (probing = undefined));
        try {
          await answerWithin(probing, COMMIT_PROBE_WAIT_MS);
        } catch {
          // probe() never rejects (it keeps its outcome): only the wait for it can end so.
          throw new Error(`the store did not commit a write within ${COMMIT_PROBE_WAIT_MS} ms (still waiting for it)`);
        }
      }
      if (known?.error !== undefined) throw known.error;
    },
    record(error) {
      known = { at: now(), error };
    },
  };
}
