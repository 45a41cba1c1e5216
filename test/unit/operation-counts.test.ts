import { toOperationCounts } from '../../src/store/shared/rows';

/**
 * The queue counts are read once, by account, provider and channel, and added up here into the
 * three views of the status. PostgreSQL answers sums as text (bigint), SQLite as numbers.
 */
describe('toOperationCounts', () => {
  const row = (account: string, provider: string, channel: string, pending: number | string, due: number | string, leased: number, dead: number, oldest: number | null) => ({
    account,
    provider,
    channel,
    pending,
    due,
    leased,
    dead,
    oldest,
  });

  it('adds up the whole queue, each channel and each account; the oldest is the earliest of its rows', () => {
    const rows = [
      row('brand-a', 'mantago', 'line', '3', '2', 1, 0, 1000),
      row('brand-a', 'mantago', 'meta', 2, 2, 0, 1, 400),
      row('Brand-B', 'botbonnie', 'line', 1, 0, 0, 4, null),
    ];
    const counts = toOperationCounts(rows, 2000);
    expect(counts.operations).toEqual({ pending: 6, due: 4, leased: 1, dead: 5, oldestPendingAgeMs: 1600 });
    // Code-unit order: the same on both engines, whatever the database's collation.
    expect(counts.channels).toEqual([
      { channel: 'line', operations: { pending: 4, due: 2, leased: 1, dead: 4, oldestPendingAgeMs: 1000 } },
      { channel: 'meta', operations: { pending: 2, due: 2, leased: 0, dead: 1, oldestPendingAgeMs: 1600 } },
    ]);
    expect(counts.accounts).toEqual([
      { account: 'Brand-B', provider: 'botbonnie', operations: { pending: 1, due: 0, leased: 0, dead: 4, oldestPendingAgeMs: null } },
      { account: 'brand-a', provider: 'mantago', operations: { pending: 5, due: 4, leased: 1, dead: 1, oldestPendingAgeMs: 1600 } },
    ]);
  });

  it('no rows: an empty queue, no channels, no accounts', () => {
    expect(toOperationCounts([], 2000)).toEqual({
      operations: { pending: 0, due: 0, leased: 0, dead: 0, oldestPendingAgeMs: null },
      channels: [],
      accounts: [],
    });
  });
});
