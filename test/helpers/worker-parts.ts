import { silentLogger } from '../../src/log';
import { createMetrics } from '../../src/metrics';
import { OperationWorker, type OperationWorkerDeps } from '../../src/delivery/operation-worker';
import type { Tagger } from '../../src/providers/taggers';
import type { ClaimedOperation, Store } from '../../src/store/store';

/** A claimed MantaGo add for user `U<id>`, as the store returns one. */
export function claimedOp(id: number): ClaimedOperation {
  return {
    id, version: 1, attempts: 0, notFoundCount: 0, requestedAt: Date.now(), provider: 'mantago', account: 'mantago', channel: 'line',
    action: 'add', kind: 'personal', tagId: 't', platform: 'line', userId: `U${id}`, eventAt: Date.now(),
  } as unknown as ClaimedOperation;
}

/**
 * A real OperationWorker for account `mantago` over a store that hands out `queue` and accepts
 * every outcome (`store` overrides its methods), for unit tests of the worker's own timing.
 */
export function workerOver(o: {
  queue: ClaimedOperation[];
  tagger: Tagger;
  concurrency: number;
  store?: Partial<Record<keyof Store, unknown>>;
  onOutcome?: OperationWorkerDeps['onOutcome'];
  /** TAG_API_TIMEOUT_MS: the call deadline of each claim (default 10 s). */
  callTimeoutMs?: number;
}): OperationWorker {
  const store = {
    claimOperations: async ({ limit }: { limit: number }) => o.queue.splice(0, limit),
    completeOperation: async () => true,
    retryOperation: async () => undefined,
    deadLetterOperation: async () => undefined,
    renewOperationLeases: async () => undefined,
    releaseLeases: async () => 0,
    nextDueAt: async () => null,
    sharePause: async () => undefined,
    ...o.store,
  } as unknown as Store;
  return new OperationWorker({
    name: 'mantago', scope: { accounts: ['mantago'] } as never, store, tagger: o.tagger, concurrency: o.concurrency, leaseMs: 30_000, callTimeoutMs: o.callTimeoutMs ?? 10_000, owner: 'test',
    policy: { minMs: 60_000, maxMs: 120_000, giveUpMs: 86_400_000, notFoundTimes: 10 }, log: silentLogger(), metrics: createMetrics(), now: Date.now,
    ...(o.onOutcome ? { onOutcome: o.onOutcome } : {}),
  });
}
