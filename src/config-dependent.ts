/**
 * Variables whose default depends on another variable, and the conflicts
 * between them. A default gives way to what the user set, so a default never
 * stops the service; only two values the user set can conflict, and then the
 * message names the variable and says what to do.
 *
 * - `TAG_API_TIMEOUT_MS` / `FORWARD_TIMEOUT_MS`: 10 s, or a third of `LEASE_MS`
 *   when that is less (`LEASE_MS=3000` alone gives 1 s calls). One set explicitly
 *   must be shorter than `LEASE_MS`, default or not, so no call outlives its lease.
 * - `RETRY_MIN_MS` / `RETRY_MAX_MS`: 1 s / 1 h, but the one left unset moves to
 *   meet the one that is set (`RETRY_MIN_MS=7200000` alone: both 2 h). Both set
 *   with the longest delay below the first is refused.
 * - `MAX_UNVERIFIED_BYTES`: 64 MiB, or `MAX_BODY_BYTES` when that is more; one set
 *   below `MAX_BODY_BYTES` is refused (a body of the largest size could never be read).
 */

export const DEFAULT_LEASE_MS = 30_000;
export const DEFAULT_CALL_TIMEOUT_MS = 10_000;
export const DEFAULT_RETRY_MIN_MS = 1000;
export const DEFAULT_RETRY_MAX_MS = 3_600_000;
/** 16 bodies of the largest default size. */
export const DEFAULT_MAX_UNVERIFIED_BYTES = 64 * 1024 * 1024;

/** As written in the environment; undefined when unset (or blank). */
export interface DependentInput {
  LEASE_MS: number | undefined;
  TAG_API_TIMEOUT_MS: number | undefined;
  FORWARD_TIMEOUT_MS: number | undefined;
  RETRY_MIN_MS: number | undefined;
  RETRY_MAX_MS: number | undefined;
  MAX_BODY_BYTES: number;
  MAX_UNVERIFIED_BYTES: number | undefined;
}

export interface DependentValues {
  leaseMs: number;
  tagApiTimeoutMs: number;
  forwardTimeoutMs: number;
  retryMinMs: number;
  retryMaxMs: number;
  maxUnverifiedBytes: number;
}

export function resolveDependent(e: DependentInput): { values: DependentValues; problems: string[] } {
  const problems: string[] = [];
  const leaseMs = e.LEASE_MS ?? DEFAULT_LEASE_MS;
  const defaultTimeout = Math.min(DEFAULT_CALL_TIMEOUT_MS, Math.floor(leaseMs / 3));
  const lease = `LEASE_MS (${leaseMs}${e.LEASE_MS === undefined ? ', its default' : ''})`;
  for (const name of ['TAG_API_TIMEOUT_MS', 'FORWARD_TIMEOUT_MS'] as const) {
    const set = e[name];
    if (set !== undefined && set >= leaseMs) {
      problems.push(
        `${name}: ${set} is not shorter than ${lease}, so a call could outlive its lease; ` +
          `set ${name} below LEASE_MS, raise LEASE_MS, or unset ${name} to get its default (${defaultTimeout} here: ` +
          `${DEFAULT_CALL_TIMEOUT_MS}, or a third of LEASE_MS when that is less)`,
      );
    }
  }

  const retryMinMs = e.RETRY_MIN_MS ?? Math.min(DEFAULT_RETRY_MIN_MS, e.RETRY_MAX_MS ?? DEFAULT_RETRY_MIN_MS);
  const retryMaxMs = e.RETRY_MAX_MS ?? Math.max(DEFAULT_RETRY_MAX_MS, retryMinMs);
  if (e.RETRY_MIN_MS !== undefined && e.RETRY_MAX_MS !== undefined && e.RETRY_MAX_MS < e.RETRY_MIN_MS) {
    problems.push(
      `RETRY_MAX_MS: ${e.RETRY_MAX_MS} is less than RETRY_MIN_MS (${e.RETRY_MIN_MS}), but the longest delay between ` +
        `attempts cannot be shorter than the first; raise RETRY_MAX_MS or lower RETRY_MIN_MS (either one left unset defaults to a value that fits the other)`,
    );
  }

  if (e.MAX_UNVERIFIED_BYTES !== undefined && e.MAX_UNVERIFIED_BYTES < e.MAX_BODY_BYTES) {
    problems.push(
      `MAX_UNVERIFIED_BYTES: ${e.MAX_UNVERIFIED_BYTES} is less than MAX_BODY_BYTES (${e.MAX_BODY_BYTES}), so a body of the largest size allowed ` +
        `could never be read; raise it or unset it (default ${DEFAULT_MAX_UNVERIFIED_BYTES}, or MAX_BODY_BYTES when that is more)`,
    );
  }

  return {
    values: {
      leaseMs,
      tagApiTimeoutMs: e.TAG_API_TIMEOUT_MS ?? defaultTimeout,
      forwardTimeoutMs: e.FORWARD_TIMEOUT_MS ?? defaultTimeout,
      retryMinMs,
      retryMaxMs,
      maxUnverifiedBytes: e.MAX_UNVERIFIED_BYTES ?? Math.max(DEFAULT_MAX_UNVERIFIED_BYTES, e.MAX_BODY_BYTES),
    },
    problems,
  };
}
