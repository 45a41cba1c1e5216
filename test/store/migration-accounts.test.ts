import type { Store } from '../../src/store/store';
import { upgradedOnBothEngines, type LegacyRows } from './legacy-store';
import { accepted, batch, tagOp } from './builders';

/*
 * Store step 6 (channels and accounts) on a store written by the release before it
 * (step 5, with event times, lifetimes and lease holders): an existing deployment upgrades in place. Its rows belong to the
 * environment's accounts (named after their provider), the event ids it has seen keep
 * catching redeliveries under the per-channel dedup keys, its refreshed MantaGo pair is
 * kept, and an id shown as a dead letter never names another row later.
 */

const STEP_5 = 5;

/** Rows as step 5 wrote them. $n placeholders are PostgreSQL's; SQLite takes them as ?n. */
const LEGACY_ROWS: LegacyRows = [
  ...(
    [
      [3, 'mantago', 'personal', 'tag-pending', 'line', 'Udest', 'U1', 'add', 'pending', null, null],
      [4, 'botbonnie', 'personal', 'tag-bb', 'facebook', 'PAGE-1', 'PSID-1', 'add', 'dead', 'BOTBONNIE_TOKEN is not set', 'provider_not_configured'],
      [5, 'mantago', 'client', 'tag-done', 'whatsapp', 'PHONE-1', 'WA-1', 'add', 'done', null, null],
      // The highest id ever handed out, since deleted: AUTOINCREMENT must not hand it out again.
      [10, 'mantago', 'personal', 'tag-gone', 'line', 'Udest', 'U9', 'add', 'done', null, null],
    ] as const
  ).map(([id, provider, kind, tag, platform, recipient, user, action, state, reason, code]): [string, (string | number | null)[]] => [
    `INSERT INTO operations (id, provider, kind, tag_id, platform, recipient, user_id, action, version, state, due_at, requested_at,
       dead_reason, dead_code, dead_at, updated_at, event_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, 100, 100, $10, $11, $12, 200, 100)`,
    [id, provider, kind, tag, platform, recipient, user, action, state, reason, code, state === 'dead' ? 200 : null],
  ]),
  ['DELETE FROM operations WHERE id = 10', []],
  ...['line:E1', 'facebook:mid-1', 'instagram:mid-2', 'whatsapp:wamid-1'].map((key): [string, (string | number | null)[]] => [
    'INSERT INTO seen_events (key, seen_at) VALUES ($1, 100)',
    [key],
  ]),
  [
    `INSERT INTO history_events (received_at, platform, recipient, user_id, event_id, kind, type, matched, operations)
     VALUES (100, 'line', 'Udest', 'U1', 'E1', 'message', 'message/text', '["r1"]', $1)`,
    [JSON.stringify([{ action: 'add', provider: 'mantago', kind: 'personal', tagId: 'tag-pending', platform: 'line', recipient: 'Udest', userId: 'U1' }])],
  ],
  ["INSERT INTO settings (key, value, updated_at) VALUES ('mantago.credentials', '{\"token\":\"refreshed-jwt\",\"secret\":\"refreshed-secret\",\"source\":\"refresh\"}', 1)", []],
  ["INSERT INTO settings (key, value, updated_at) VALUES ('mantago.env-fingerprint', 'fingerprint-of-the-environment-pair', 1)", []],
];

function checks(open: () => Promise<Store>): void {
  it('gives every row the environment\'s account of its provider and the channel it most likely came in on', async () => {
    const store = await open();
    const [pending] = await store.claimOperations({ scope: { account: 'mantago' }, limit: 10, owner: 'w', now: 1000, leaseMs: 1000 });
    expect(pending).toMatchObject({ id: 3, tagId: 'tag-pending', account: 'mantago', channel: 'line', provider: 'mantago' });
    const [dead] = await store.listDeadLetters();
    expect(dead).toMatchObject({ id: 'op-4', code: 'provider_not_configured', operation: { account: 'botbonnie', channel: 'facebook' } });
    // Kept while BotBonnie had no token: queued again by its account, as before.
    expect(await store.requeueDeadOperations('botbonnie', 'provider_not_configured', 2000)).toBe(1);
    const status = await store.status(3000);
    expect(status.accounts.map((a) => a.account)).toEqual(['botbonnie', 'mantago']);
    expect(status.channels.map((c) => c.channel)).toEqual(['facebook', 'line']);
  });

  it('keeps catching redeliveries of the events it had seen, under the per-channel dedup keys', async () => {
    const store = await open();
    const redelivered = [
      accepted('E1', [tagOp({ tagId: 'again' })], { event: { channel: 'line' } }),
      accepted('mid-1', [tagOp({ tagId: 'again', platform: 'facebook' })], { event: { platform: 'facebook', channel: 'facebook' } }),
      accepted('mid-2', [], { event: { platform: 'instagram', channel: 'facebook' } }),
      // A WhatsApp event may have come in on either Meta endpoint.
      accepted('wamid-1', [], { event: { platform: 'whatsapp', channel: 'whatsapp' } }),
      accepted('wamid-1', [], { event: { platform: 'whatsapp', channel: 'facebook' } }),
    ];
    expect(await store.accept(batch(5000, redelivered))).toMatchObject({ accepted: 0, duplicates: 5, operationsQueued: 0 });
    // The same event id on another channel is another event.
    expect(await store.accept(batch(5000, [accepted('E1', [], { event: { channel: 'brand-a-line' } })]))).toMatchObject({ accepted: 1 });
  });

  it('keeps the refreshed MantaGo pair, now as the environment account\'s', async () => {
    const store = await open();
    expect(await store.getSetting('mantago.credentials:mantago')).toBe('{"token":"refreshed-jwt","secret":"refreshed-secret","source":"refresh"}');
    expect(await store.getSetting('mantago.env-fingerprint:mantago')).toBe('fingerprint-of-the-environment-pair');
    expect(await store.getSetting('mantago.credentials')).toBeUndefined();
  });

  it('reads the history written before it with the channel and account', async () => {
    const store = await open();
    const { events } = await store.userHistory('U1');
    expect(events).toEqual([
      expect.objectContaining({ channel: 'line', operations: [expect.objectContaining({ tagId: 'tag-pending', account: 'mantago', channel: 'line' })] }),
    ]);
  });

  it('keeps working: the same key coalesces in its account, another account gets a row of its own, and ids are never reused', async () => {
    const store = await open();
    const ask = (account: string) =>
      store.accept(batch(6000, [accepted(`new-${account}`, [tagOp({ tagId: 'tag-pending', recipient: 'Udest', account })], { event: { recipient: 'Udest' } })]));
    expect((await ask('mantago')).operationsQueued).toBe(0);
    expect((await ask('brand-a')).operationsQueued).toBe(1);
    const [mine] = await store.claimOperations({ scope: { account: 'brand-a' }, limit: 10, owner: 'w', now: 7000, leaseMs: 1000 });
    expect(mine!.id).toBeGreaterThan(10);
    expect(await store.completeOperation(mine!, 'w', 7100, { status: 200 })).toBe(true);
  });
}

upgradedOnBothEngines('store step 6', STEP_5, LEGACY_ROWS, checks, [`SELECT setval(pg_get_serial_sequence('operations', 'id'), 10)`]);
