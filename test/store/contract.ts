import type { Store } from '../../src/store/store';
import { accountsContract } from './contract-accounts';
import { activityContract } from './contract-activity';
import { acceptContract } from './contract-accept';
import { adminSessionsContract } from './contract-admin-sessions';
import { operationsContract } from './contract-operations';
import { forwardsContract } from './contract-forwards';
import { forwardLeasesContract } from './contract-forward-leases';
import { viewsContract } from './contract-views';
import { orderContract } from './contract-order';
import { lifetimesContract } from './contract-lifetimes';
import { personScopeContract } from './contract-person-scope';
import { pausesContract } from './contract-pauses';
import { rateEstimatesContract } from './contract-rate-estimates';

export interface TestStore {
  store: Store;
  /** Closes the store and opens the same database again, as a restart would. */
  reopen(): Promise<Store>;
  cleanup(): Promise<void>;
}
export type MakeStore = () => Promise<TestStore>;

/**
 * The behaviour every store engine must have. Each test gets a new, migrated,
 * empty store from `makeStore` and cleans it up afterwards.
 */
export function describeStoreContract(name: string, makeStore: MakeStore): void {
  describe(`store contract: ${name}`, () => {
    let current: TestStore | undefined;
    const store = (): Store => {
      if (!current) throw new Error('no store: makeStore failed');
      return current.store;
    };
    const restart = async (): Promise<void> => {
      if (!current) throw new Error('no store: makeStore failed');
      current.store = await current.reopen();
    };
    beforeEach(async () => {
      current = await makeStore();
    });
    afterEach(async () => {
      await current?.cleanup();
      current = undefined;
    });

    acceptContract(store);
    operationsContract(store);
    forwardsContract(store);
    forwardLeasesContract(store);
    viewsContract(store);
    adminSessionsContract(store);
    orderContract(store);
    personScopeContract(store);
    lifetimesContract(store, restart);
    accountsContract(store);
    activityContract(store);
    pausesContract(store, restart);
    rateEstimatesContract(store, restart);
  });
}
