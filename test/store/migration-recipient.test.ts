import type { Store } from '../../src/store/store';
import { upgradedOnBothEngines, type LegacyRows } from './legacy-store';

/*
 * Store step 3 (recipient column, dead-letter codes) on a store written by release 1 (step 1): the column that held the recipient is
 * renamed, and dead letters kept while a provider had no token get their reason code,
 * so they are queued again by the code, not by their text.
 */

/** Rows as release 1 wrote them. $n placeholders are PostgreSQL's; SQLite takes them as ?n. */
const LEGACY_ROWS: LegacyRows = [
  ...(
    [
      [1, 'mantago', 'tag-token', 'MANTAGO_TOKEN is not set'],
      [2, 'botbonnie', 'tag-bb', 'BOTBONNIE_TOKEN is not set'],
      [3, 'mantago', 'tag-bad', '400 from mantago: bad tag'],
      // Another provider's reason text: not this provider's missing token.
      [4, 'botbonnie', 'tag-odd', 'MANTAGO_TOKEN is not set'],
    ] as const
  ).map(([id, provider, tag, reason]): [string, (string | number)[]] => [
    `INSERT INTO operations (id, provider, kind, tag_id, platform, channel, user_id, action, version, state, due_at, requested_at,
       dead_reason, dead_at, updated_at)
     VALUES ($1, $2, 'personal', $3, 'line', 'Udest', 'U1', 'add', 1, 'dead', 100, 100, $4, 200, 200)`,
    [id, provider, tag, reason],
  ]),
  [
    `INSERT INTO history_events (received_at, platform, channel, user_id, event_id, kind, type, matched, operations)
     VALUES (100, 'line', 'Udest', 'U1', 'E1', 'message', 'message/text', '["r1"]', $1)`,
    [JSON.stringify([{ action: 'add', provider: 'mantago', kind: 'personal', tagId: 'tag-token', platform: 'line', channel: 'Udest', userId: 'U1' }])],
  ],
  [
    `INSERT INTO history_calls (at, user_id, operation, version, outcome, error) VALUES (200, 'U1', $1, 1, 'dead', 'MANTAGO_TOKEN is not set')`,
    [JSON.stringify({ action: 'add', provider: 'mantago', kind: 'personal', tagId: 'tag-token', platform: 'line', channel: 'Udest', userId: 'U1' })],
  ],
];

function checks(open: () => Promise<Store>): void {
  it('maps the dead letters of an unconfigured provider to their code, and only those', async () => {
    const store = await open();
    const dead = await store.listDeadLetters();
    expect(dead.map((d) => [d.operation?.tagId, d.code ?? null]).sort()).toEqual([
      ['tag-bad', null],
      ['tag-bb', 'provider_not_configured'],
      ['tag-odd', null],
      ['tag-token', 'provider_not_configured'],
    ]);
    // Step 4 runs after it: the row belongs to the environment's account, and came in on the `line` channel.
    expect(dead.find((d) => d.operation?.tagId === 'tag-token')?.operation).toEqual({
      action: 'add', provider: 'mantago', kind: 'personal', tagId: 'tag-token', platform: 'line', recipient: 'Udest', userId: 'U1',
      account: 'mantago', channel: 'line',
    });
    expect(await store.requeueDeadOperations('mantago', 'provider_not_configured', 1000)).toBe(1);
    expect(await store.requeueDeadOperations('botbonnie', 'provider_not_configured', 1000)).toBe(1);
    expect((await store.listDeadLetters()).map((d) => d.operation?.tagId).sort()).toEqual(['tag-bad', 'tag-odd']);
  });

  it('reads the history written before it with the recipient', async () => {
    const store = await open();
    const history = await store.userHistory('U1');
    const op = {
      action: 'add', provider: 'mantago', kind: 'personal', tagId: 'tag-token', platform: 'line', recipient: 'Udest', userId: 'U1', account: 'mantago', channel: 'line',
    };
    expect(history.events).toEqual([expect.objectContaining({ recipient: 'Udest', channel: 'line', eventId: 'E1', operations: [op] })]);
    expect(history.calls).toEqual([expect.objectContaining({ operation: op, outcome: 'dead' })]);
  });
}

upgradedOnBothEngines('store step 3', 1, LEGACY_ROWS, checks);
