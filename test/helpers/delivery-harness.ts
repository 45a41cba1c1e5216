import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../../src/config';
import { createTaggers } from '../../src/providers/create-taggers';
import { Delivery } from '../../src/delivery/worker';
import type { AckPressure } from '../../src/delivery/ack-pressure';
import type { OperationOutcome } from '../../src/delivery/operation-worker';
import type { ForwardOutcome } from '../../src/delivery/forward-worker';
import type { Harness } from './app-harness';

export interface RunningDelivery {
  delivery: Delivery;
  config: Config;
  outcomes: OperationOutcome[];
  forwardOutcomes: ForwardOutcome[];
  /** Resolves once `n` operation outcomes matching `filter` have been seen (rejects after timeoutMs). */
  waitForOutcomes(n: number, filter?: (o: OperationOutcome) => boolean, timeoutMs?: number): Promise<OperationOutcome[]>;
  waitForForwards(n: number, filter?: (o: ForwardOutcome) => boolean, timeoutMs?: number): Promise<ForwardOutcome[]>;
  stop(): Promise<void>;
}

/** Starts the real delivery loops over the harness's store, with taggers built from `env`. */
export async function startDelivery(
  h: Harness,
  env: Record<string, string>,
  opts: { ackPressure?: AckPressure; /** Called with the delivery before it starts (a test reaches its workers). */ beforeStart?: (d: Delivery) => void } = {},
): Promise<RunningDelivery> {
  const config = loadConfig({ DATA_DIR: h.dataDir, RULES_DIR: h.config.rulesDir, ...env });
  const taggers = await createTaggers(config, h.store, h.log);
  const delivery = new Delivery({ store: h.store, config, log: h.log, metrics: h.metrics, taggers: taggers.taggers, owner: `test-${randomBytes(3).toString('hex')}`, ackPressure: opts.ackPressure });
  const outcomes: OperationOutcome[] = [];
  const forwardOutcomes: ForwardOutcome[] = [];
  delivery.events.on('operation', (o) => outcomes.push(o));
  delivery.events.on('forward', (o) => forwardOutcomes.push(o));
  opts.beforeStart?.(delivery);
  await delivery.start();

  function waiter<T>(list: T[], event: 'operation' | 'forward') {
    return (n: number, filter: (o: T) => boolean = () => true, timeoutMs = 10_000): Promise<T[]> =>
      new Promise((resolve, reject) => {
        const check = () => {
          const hits = list.filter(filter);
          if (hits.length >= n) {
            delivery.events.off(event, check);
            clearTimeout(timer);
            resolve(hits);
          }
        };
        const timer = setTimeout(() => {
          delivery.events.off(event, check);
          reject(new Error(`expected ${n} ${event} outcome(s) within ${timeoutMs} ms, saw ${list.filter(filter).length}: ${JSON.stringify(list.map((o) => (o as { outcome: string; reason?: string }).outcome + (((o as { reason?: string }).reason) ? ` (${(o as { reason?: string }).reason})` : '')))}`));
        }, timeoutMs);
        delivery.events.on(event, check);
        check();
      });
  }

  return {
    delivery,
    config,
    outcomes,
    forwardOutcomes,
    waitForOutcomes: waiter(outcomes, 'operation'),
    waitForForwards: waiter(forwardOutcomes, 'forward'),
    async stop() {
      await delivery.stop(2000);
      await taggers.close();
    },
  };
}
