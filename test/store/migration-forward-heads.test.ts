import type { Store } from '../../src/store/store';
import { upgradedOnBothEngines, type LegacyRows } from './legacy-store';
import { batch, forwardTo } from './builders';

/*
 * Store step 11 (forward heads marked) on a store written by the release before it (step 10):
 * forwards waiting there carry no mark, and a claim now reads marked heads only. The oldest
 * pending forward of each (destination, ordering key) is marked by the step, so every key goes
 * on in order; forwards behind a head, and dead letters, are not.
 */

const STEP_10 = 10;
const A = 'http://a.test/hook';
const B = 'http://b.test/hook';

type LegacyForward = [id: number, destination: string, key: string, state: 'pending' | 'dead', dueAt: number];

const FORWARDS: LegacyForward[] = [
  [1, A, 'U1', 'dead', 1000],
  [2, A, 'U1', 'pending', 1000],
  [3, A, 'U1', 'pending', 1001],
  [4, A, 'U2', 'pending', 5000],
  [5, B, 'U1', 'pending', 1002],
];

const LEGACY_ROWS: LegacyRows = [
  [`INSERT INTO forward_bodies (id, body, headers, received_at) VALUES (1, $1, '{}', 1000)`, [Buffer.from('body') as unknown as string]],
  ...FORWARDS.map(([id, destination, key, state, dueAt]): [string, (string | number | null)[]] => [
    `INSERT INTO forwards (id, body_id, destination, ordering_key, state, received_at, due_at, attempts) VALUES ($1, 1, $2, $3, $4, $5, $5, 0)`,
    [id, destination, key, state, dueAt],
  ]),
];

function checks(open: () => Promise<Store>): void {
  const claim = (store: Store, destination: string, now: number) =>
    store.claimForwards({ destinations: [destination], owner: 'w', now, limit: 10, leaseMs: 1000 });

  it("goes on with every key's oldest waiting forward, in order, and tells when the next is due", async () => {
    const store = await open();
    expect(await store.nextDueAt('forwards', A)).toBe(1000);
    const [first] = await claim(store, A, 2000);
    expect(first?.id).toBe(2);
    expect((await claim(store, B, 2000)).map((f) => f.id)).toEqual([5]);
    expect(await store.nextDueAt('forwards', A)).toBe(3000); // 2's lease (3 is due, but behind it); 4 at 5000
    await store.completeForward(first!, 'w', 2000, { status: 200 });
    const [second] = await claim(store, A, 2000);
    expect(second?.id).toBe(3);
    await store.completeForward(second!, 'w', 2000, { status: 200 });
    expect(await claim(store, A, 4999)).toEqual([]);
    expect((await claim(store, A, 5000)).map((f) => f.id)).toEqual([4]);
  });

  it('queues forwards after the upgrade behind the ones that waited', async () => {
    const store = await open();
    await store.accept(batch(3000, [], [forwardTo(B, 'U1', Buffer.from('new'))]));
    const [old] = await claim(store, B, 3000);
    expect(old?.id).toBe(5);
    expect(await claim(store, B, 3000)).toEqual([]);
    await store.completeForward(old!, 'w', 3000, { status: 200 });
    expect((await claim(store, B, 3000)).map((f) => f.body.toString())).toEqual(['new']);
  });
}

upgradedOnBothEngines('store step 11', STEP_10, LEGACY_ROWS, checks, [
  `SELECT setval(pg_get_serial_sequence('forwards', 'id'), 5)`,
  `SELECT setval(pg_get_serial_sequence('forward_bodies', 'id'), 1)`,
]);
