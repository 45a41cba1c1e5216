import type { Store } from '../../src/store/store';
import { upgradedOnBothEngines, type LegacyRows } from './legacy-store';
import { accepted, batch, tagOp } from './builders';

/*
 * Store step 9 (desired state per person at the provider) on a store written by the
 * release before it (step 8), whose rows were per recipient: one MantaGo user's tag asked
 * for through two LINE channels (two destinations) of account acc-a is two rows there.
 * They become one, the row set by the latest event (then the last updated, then the
 * newest); BotBonnie's rows of two pages stay two (bot_pid is the page id).
 */

const STEP_8 = 8;

type LegacyOp = [id: number, provider: string, tag: string, platform: string, recipient: string, user: string, action: string, eventAt: number, updatedAt: number];

const OPS: LegacyOp[] = [
  // The latest event wins.
  [1, 'mantago', 'tag-x', 'line', 'UdestA', 'USAME', 'add', 1000, 1100],
  [2, 'mantago', 'tag-x', 'line', 'UdestB', 'USAME', 'remove', 2000, 2100],
  // Same event time: the last updated wins.
  [3, 'mantago', 'tag-y', 'line', 'UdestA', 'USAME', 'add', 500, 900],
  [4, 'mantago', 'tag-y', 'line', 'UdestB', 'USAME', 'remove', 500, 800],
  // Same event time and update: the newest row wins.
  [5, 'mantago', 'tag-z', 'line', 'UdestA', 'USAME', 'add', 500, 900],
  [6, 'mantago', 'tag-z', 'line', 'UdestB', 'USAME', 'remove', 500, 900],
  // Another user: untouched.
  [7, 'mantago', 'tag-x', 'line', 'UdestA', 'UOTHER', 'add', 100, 100],
  // BotBonnie: two pages, two people.
  [8, 'botbonnie', 'tag-b', 'facebook', 'P1', 'PSID', 'add', 1000, 1000],
  [9, 'botbonnie', 'tag-b', 'facebook', 'P2', 'PSID', 'remove', 2000, 2000],
  // The highest id ever handed out, since deleted: AUTOINCREMENT must not hand it out again.
  [20, 'mantago', 'tag-gone', 'line', 'UdestA', 'U9', 'add', 100, 100],
];

const LEGACY_ROWS: LegacyRows = [
  ...OPS.map(([id, provider, tag, platform, recipient, user, action, eventAt, updatedAt]): [string, (string | number | null)[]] => [
    `INSERT INTO operations (id, account, channel, provider, kind, tag_id, platform, recipient, user_id, action, version, state, due_at,
       requested_at, updated_at, event_at)
     VALUES ($1, $2, $3, $4, 'personal', $5, $6, $7, $8, $9, 1, 'pending', $10, $10, $11, $10)`,
    [id, provider === 'mantago' ? 'acc-a' : 'botbonnie', recipient === 'UdestB' ? 'lb' : 'la', provider, tag, platform, recipient, user, action, eventAt, updatedAt],
  ]),
  ['DELETE FROM operations WHERE id = 20', []],
];

function checks(open: () => Promise<Store>): void {
  const claimAll = (store: Store, account: string, now = 10_000) => store.claimOperations({ scope: { account }, limit: 50, owner: 'w', now, leaseMs: 1000 });

  it('keeps one row per person: the one set by the latest event, then the last updated, then the newest', async () => {
    const store = await open();
    const rows = (await claimAll(store, 'acc-a')).map((o) => [o.id, o.tagId, o.userId, o.action, o.recipient, o.channel]);
    expect(rows.sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual([
      [2, 'tag-x', 'USAME', 'remove', 'UdestB', 'lb'],
      [3, 'tag-y', 'USAME', 'add', 'UdestA', 'la'],
      [6, 'tag-z', 'USAME', 'remove', 'UdestB', 'lb'],
      [7, 'tag-x', 'UOTHER', 'add', 'UdestA', 'la'],
    ]);
  });

  it("keeps BotBonnie's rows of two pages apart", async () => {
    const store = await open();
    expect((await claimAll(store, 'botbonnie')).map((o) => [o.id, o.recipient]).sort()).toEqual([
      [8, 'P1'],
      [9, 'P2'],
    ]);
  });

  it('an older event through the other recipient is superseded afterwards, a newer one takes the row, and ids are never reused', async () => {
    const store = await open();
    const ask = (id: string, at: number, over: Parameters<typeof tagOp>[0]) =>
      store.accept(batch(20_000, [accepted(id, [tagOp({ account: 'acc-a', channel: 'la', recipient: 'UdestA', userId: 'USAME', ...over })], { event: { timestamp: at } })]));
    expect((await ask('old', 1500, { tagId: 'tag-x', action: 'add' })).operationsQueued).toBe(0);
    expect((await store.userHistory('USAME')).calls).toEqual([expect.objectContaining({ outcome: 'superseded', cause: 'older_event' })]);
    expect((await ask('new', 3000, { tagId: 'tag-x', action: 'add' })).operationsQueued).toBe(1);
    expect((await ask('fresh', 3000, { tagId: 'tag-new', action: 'add' })).operationsQueued).toBe(1);
    const rows = await claimAll(store, 'acc-a', 20_000);
    expect(rows.find((o) => o.tagId === 'tag-x' && o.userId === 'USAME')).toMatchObject({ id: 2, action: 'add', version: 2, recipient: 'UdestA', channel: 'la' });
    expect(rows.find((o) => o.tagId === 'tag-new')!.id).toBeGreaterThan(20);
  });
}

upgradedOnBothEngines('store step 9', STEP_8, LEGACY_ROWS, checks, [
  // Ids handed out so far, as BIGSERIAL would have after inserting them.
  `SELECT setval(pg_get_serial_sequence('operations', 'id'), 20)`,
]);
