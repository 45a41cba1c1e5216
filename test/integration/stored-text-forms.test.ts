import path from 'node:path';
import Database from '../../src/store/sqlite/driver';
import { Client } from 'pg';
import request from 'supertest';
import { HASHED_KEY_MARKER, MAX_PLAIN_KEY_BYTES, storableKey, storableText } from '../../src/store/shared/storable-text';
import { signLine, signMeta } from '../helpers/signatures';
import { lineBody, lineText, recentTimestamp, startHarness, type Harness, type HarnessEngine } from '../helpers/app-harness';
import { describeEachEngine } from '../helpers/engines';

/*
 * What reaches the store from a webhook is stored the same on both engines
 * (src/store/shared/storable-text.ts): U+0000 as the six characters `\u0000`, a lone
 * surrogate as U+FFFD — display forms, which may make two different values look alike.
 * The dedup key never does: two different events are never one, and a key with neither
 * (every key an earlier release stored) is stored as it was, so redeliveries of events
 * stored before an upgrade are still duplicates.
 */

const LINE_SECRET = 'line-secret-stored-forms';
const META_SECRET = 'meta-secret-stored-forms';
const NUL = '\u0000';

const RULES = {
  'rules.yaml': `
defaults: { provider: mantago }
rules:
  - id: coupon
    when: { event: message, text: { contains: coupon } }
    then: [ { add_tag: tag-coupon } ]
  - id: postback
    when: { event: postback }
    then: [ { add_tag: tag-postback } ]
`,
};

/** The keys the store remembers for dedup, read from its own database. */
async function seenKeys(h: Harness, on: HarnessEngine): Promise<string[]> {
  if (on.engine === 'sqlite') {
    const db = new Database(path.join(h.dataDir, 'autotag.db'), { readonly: true });
    try {
      return (db.prepare('SELECT key FROM seen_events ORDER BY key').all() as { key: string }[]).map((r) => r.key);
    } finally {
      db.close();
    }
  }
  const c = new Client({ connectionString: on.url });
  await c.connect();
  try {
    return (await c.query<{ key: string }>(`SELECT key FROM "${h.schema}".seen_events ORDER BY key`)).rows.map((r) => r.key);
  } finally {
    await c.end();
  }
}

/** Remembers `key` as seen, as an earlier release stored it. */
async function rememberSeen(h: Harness, on: HarnessEngine, key: string): Promise<void> {
  if (on.engine === 'sqlite') {
    const db = new Database(path.join(h.dataDir, 'autotag.db'));
    db.prepare('INSERT INTO seen_events (key, seen_at) VALUES (?, ?)').run(key, Date.now());
    db.close();
    return;
  }
  const c = new Client({ connectionString: on.url });
  await c.connect();
  try {
    await c.query(`INSERT INTO "${h.schema}".seen_events (key, seen_at) VALUES ($1, $2)`, [key, Date.now()]);
  } finally {
    await c.end();
  }
}

describeEachEngine('stored forms of text, ids and dedup keys', (on) => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ LINE_CHANNEL_SECRET: LINE_SECRET, FACEBOOK_APP_SECRET: META_SECRET, HISTORY_STORE_TEXT: '1' }, RULES, on);
  });
  afterEach(async () => {
    await h.cleanup();
  });

  const postLine = (body: string) => request(h.app).post('/webhooks/line').set('content-type', 'application/json').set('x-line-signature', signLine(body, LINE_SECRET)).send(body);
  const postMeta = (body: string) => request(h.app).post('/webhooks/facebook').set('content-type', 'application/json').set('x-hub-signature-256', signMeta(body, META_SECRET)).send(body);
  const history = async (userId: string) => (await h.store.userHistory(userId)).events.map((e) => [e.eventId, e.text ?? null, e.postbackData ?? null]);

  it('keeps apart two postbacks of one sender at one time whose payloads are "X" + U+0000 and the six characters X\\u0000, on every delivery', async () => {
    const timestamp = recentTimestamp();
    const postback = (payload: string) => JSON.stringify({ object: 'page', entry: [{ id: 'PAGE', time: 1, messaging: [{ sender: { id: 'PSID-collide' }, recipient: { id: 'PAGE' }, timestamp, postback: { title: 't', payload } }] }] });
    for (let delivery = 0; delivery < 2; delivery++) {
      await postMeta(postback(`X${NUL}`)).expect(200, {});
      await postMeta(postback('X\\u0000')).expect(200, {});
    }
    // The history shows both alike (a display form), but they are two events, each stored once.
    const events = await history('PSID-collide');
    expect(events).toHaveLength(2);
    expect(events.map(([, , data]) => data)).toEqual(['X\\u0000', 'X\\u0000']);
    expect(h.logs.parsed().filter((l) => l.message === 'webhook accepted').map((l) => l.duplicates ?? 0)).toEqual([0, 0, 1, 1]);
  });

  it('stores a dedup key without U+0000 or a lone surrogate as it is, so an event stored before an upgrade is still a duplicate', async () => {
    // As an earlier release stored the key of this event.
    await rememberSeen(h, on, 'line/line:01EARLIER-RELEASE');
    await postLine(lineBody([lineText('coupon', 'U-upgraded', { webhookEventId: '01EARLIER-RELEASE' })])).expect(200, {});
    expect(await history('U-upgraded')).toEqual([]);
    expect((await h.store.status(Date.now())).operations.pending).toBe(0);

    await postLine(lineBody([lineText('coupon', 'U-plain', { webhookEventId: '01PLAIN' }), lineText('coupon', 'U-nul', { webhookEventId: `01${NUL}NUL` }), lineText('coupon', 'U-lone', { webhookEventId: '01\ud800LONE' })])).expect(200, {});
    const keys = await seenKeys(h, on);
    expect(keys).toContain('line/line:01PLAIN');
    const hashed = keys.filter((k) => k.startsWith(HASHED_KEY_MARKER));
    expect(hashed).toHaveLength(2);
    for (const k of hashed) expect(k).toMatch(/^#sha256:[0-9a-f]{64}$/);
  });

  it.each([
    ['Messenger', 'page'],
    ['Instagram', 'instagram'],
  ])('stores a %s postback with a payload of 1,000 Chinese characters (Meta\'s longest) once, redelivered or not, its key hashed', async (_name, object) => {
    // 1,000 different characters, 3,000 bytes: more than PostgreSQL can index, and text that does not compress.
    const payload = Array.from({ length: 1000 }, (_, i) => String.fromCodePoint(0x4e00 + ((i * 7919) % 20000))).join('');
    const timestamp = recentTimestamp();
    const body = JSON.stringify({ object, entry: [{ id: 'PAGE', time: timestamp, messaging: [{ sender: { id: `PSID-long-${object}` }, recipient: { id: 'PAGE' }, timestamp, postback: { title: '選擇', payload } }] }] });
    await postMeta(body).expect(200, {});
    await postMeta(body).expect(200, {});
    expect((await history(`PSID-long-${object}`)).map(([, , data]) => data)).toEqual([payload]);
    expect(h.logs.parsed().filter((l) => l.message === 'webhook accepted').map((l) => l.duplicates ?? 0)).toEqual([0, 1]);
    expect(await seenKeys(h, on)).toEqual([expect.stringMatching(/^#sha256:[0-9a-f]{64}$/)]);
  });

  it('stores a lone surrogate as one U+FFFD in text, postback data and ids, the same on both engines; two ids that read alike stay two events', async () => {
    await postLine(
      lineBody([
        lineText('coupon a\ud800b\udc00', 'U-lone-text', { webhookEventId: '01LONE\ud800' }),
        lineText('coupon', 'U-lone-text', { webhookEventId: '01LONE\ufffd' }),
        { type: 'postback', mode: 'active', timestamp: recentTimestamp(), source: { type: 'user', userId: 'U-lone-text' }, webhookEventId: '01LONE-PB', replyToken: 'r', postback: { data: 'p\udc00' } },
      ]),
    ).expect(200, {});
    expect(await history('U-lone-text')).toEqual([
      ['01LONE\ufffd', 'coupon a\ufffdb\ufffd', null],
      ['01LONE\ufffd', 'coupon', null],
      ['01LONE-PB', null, 'p\ufffd'],
    ]);
  });
});

describe('storableKey', () => {
  it('is one to one where storableText is not, and leaves every other key as it is', () => {
    const keys = ['line/line:X\\u0000', `line/line:X${NUL}`, 'line/line:a\ufffd', 'line/line:a\ud800', 'line/line:a\udc00', `${HASHED_KEY_MARKER}abc`, 'abc'];
    expect(new Set(keys.map(storableText)).size).toBeLessThan(keys.length);
    expect(new Set(keys.map(storableKey)).size).toBe(keys.length);
    for (const plain of ['line/line:01PLAIN', 'facebook/facebook:PSID:1767225600000:GET_STARTED', 'brand/whatsapp:wamid.😀', 'abc']) expect(storableKey(plain)).toBe(plain);
    // Up to MAX_PLAIN_KEY_BYTES of UTF-8 a key is stored as it is; one byte more and it is hashed.
    const longest = `facebook/facebook:PSID:1767225600000:${'選'.repeat(600)}`.padEnd(MAX_PLAIN_KEY_BYTES - 1200, 'x');
    expect(Buffer.byteLength(longest)).toBe(MAX_PLAIN_KEY_BYTES);
    expect(storableKey(longest)).toBe(longest);
    expect(storableKey(`${longest}x`)).toMatch(/^#sha256:[0-9a-f]{64}$/);
    // A key that already looks hashed is hashed itself: it cannot pass for the hash of another.
    expect(storableKey(`${HASHED_KEY_MARKER}abc`)).toMatch(/^#sha256:[0-9a-f]{64}$/);
    expect(storableKey(storableKey(`x${NUL}`))).not.toBe(storableKey(`x${NUL}`));
  });
});
