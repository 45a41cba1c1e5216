import request from 'supertest';
import { createTaggers } from '../../src/providers/create-taggers';
import { Delivery } from '../../src/delivery/worker';
import type { OperationOutcome } from '../../src/delivery/operation-worker';
import { loadConfig } from '../../src/config';
import { StoreUnavailableError, type Store } from '../../src/store/store';
import { startFakeMantago, type FakeMantago } from '../helpers/fake-tag-api';
import { signLine } from '../helpers/signatures';
import { lineBody, lineText, startHarness, type Harness } from '../helpers/app-harness';
import { mantagoEnv } from '../helpers/service-process';

const SECRET = 'store-fault-secret';

/**
 * A claim can commit while its answer is lost (the database connection dropped
 * mid-reply). The rows must not wait for their lease (30 s by default) to expire.
 */
describe('delivery when the store fails under it', () => {
  let h: Harness;
  let mantago: FakeMantago;
  let delivery: Delivery | undefined;
  let closeTaggers: (() => Promise<void>) | undefined;

  beforeEach(async () => {
    mantago = await startFakeMantago();
    h = await startHarness({ LINE_CHANNEL_SECRET: SECRET });
  });
  afterEach(async () => {
    await delivery?.stop(1000);
    await closeTaggers?.();
    await h.cleanup();
    await mantago.close();
  });

  /** The harness store, except that the first claim commits and then reports the store unavailable. */
  function losingFirstClaimAnswer(store: Store): Store & { lostClaims: number } {
    let lost = 0;
    return new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'lostClaims') return lost;
        if (prop === 'claimOperations') {
          return async (opts: Parameters<Store['claimOperations']>[0]) => {
            const rows = await target.claimOperations(opts);
            if (lost === 0 && rows.length > 0) {
              lost += 1;
              throw new StoreUnavailableError('connection terminated while reading the answer');
            }
            return rows;
          };
        }
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    }) as Store & { lostClaims: number };
  }

  it('releases the rows of a claim whose answer was lost, and applies them without waiting for the lease', async () => {
    const body = lineBody([lineText('coupon', 'Ulostclaim')]);
    await request(h.app).post('/webhooks/line').set('content-type', 'application/json').set('x-line-signature', signLine(body, SECRET)).send(body).expect(200);

    const store = losingFirstClaimAnswer(h.store);
    const config = loadConfig({ DATA_DIR: h.dataDir, RULES_DIR: h.config.rulesDir, ...mantagoEnv(mantago), LEASE_MS: '60000' });
    const taggers = await createTaggers(config, store, h.log);
    closeTaggers = taggers.close;
    delivery = new Delivery({ store, config, log: h.log, metrics: h.metrics, taggers: taggers.taggers, owner: 'fault-test' });
    const applied = new Promise<OperationOutcome>((resolve) => delivery!.events.on('operation', (o) => o.outcome === 'applied' && resolve(o)));
    await delivery.start();
    const outcome = await applied;
    expect(store.lostClaims).toBe(1);
    expect(outcome.op.userId).toBe('Ulostclaim');
    expect(mantago.personalTagsOf('line', 'Ulostclaim')).toEqual(['tag-coupon']);
    // applied once: the lost claim's rows were not also worked on
    expect(mantago.tagRequests).toHaveLength(1);
  });
});
