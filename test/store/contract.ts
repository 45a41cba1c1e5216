import type { Store } from '../../src/store/store';
import { accountsContract } from './contract-accounts';
import { acceptContract } from './contract-accept';
import { adminSessionsContract } from './contract-admin-sessions';
import { operationsContract } from './contract-operations';
import { forwardsContract } from './contract-forwards';
import { viewsContract } from './contract-views';

export type MakeStore = () => Promise<{ store: Store; cleanup(): Promise<void> }>;

/**
 * The behaviour every store engine must have. Each test gets a new, migrated,
 * empty store from `makeStore` and cleans it up afterwards.
 */
export function describeStoreContract(name: string, makeStore: MakeStore): void {
  describe(`store contract: ${name}`, () => {
    let current: { store: Store; cleanup(): Promise<void> } | undefined;
    const store = (): Store => {
      if (!current) throw new Error('no store: makeStore failed');
      return current.store;
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
    viewsContract(store);
    adminSessionsContract(store);
    accountsContract(store);
  });
}
