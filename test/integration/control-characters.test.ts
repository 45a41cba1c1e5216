import path from 'node:path';
import Database from '../../src/store/sqlite/driver';
import { Client } from 'pg';
import request from 'supertest';
import { signLine, signMeta } from '../helpers/signatures';
import { lineBody, lineText, recentTimestamp, startHarness, type Harness, type HarnessEngine } from '../helpers/app-harness';
import { describeEachEngine } from '../helpers/engines';
import { describePostgres } from '../helpers/pg-schema';

/*
 * CONTRACT.md, "What an event becomes": text, ids and postback data holding U+0000 or other
 * control characters are stored safely in both engines; a user id with control characters
 * is no user; one bad event never fails the rest of its webhook. Real app, real store,
 * signed bodies; the two innocent users of each batch must be tagged.
 */

const LINE_SECRET = 'line-secret-control-chars';
const META_SECRET = 'meta-secret-control-chars';
const WHATSAPP_SECRET = 'whatsapp-secret-control-chars';
const NUL = '\u0000';
const CONTROLS = `a${NUL}b\u0001\u001f\u007f\u0085`;

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

/** A LINE postback event carrying `data`. */
const linePostback = (data: string, userId: string, webhookEventId = `pb-${Math.random().toString(36).slice(2)}`) => ({
  type: 'postback',
  mode: 'active',
  timestamp: recentTimestamp(),
  source: { type: 'user', userId },
  webhookEventId,
  deliveryContext: { isRedelivery: false },
  replyToken: 'r',
  postback: { data },
});

/**
 * Makes the store's own database refuse to record events whose id holds `marker` (a trigger
 * raising an error), as a value an engine cannot hold would.
 */
async function refuseEventIds(h: Harness, on: HarnessEngine, marker: string): Promise<void> {
  if (on.engine === 'sqlite') {
    const db = new Database(path.join(h.dataDir, 'autotag.db'));
    db.exec(`CREATE TRIGGER refuse_marked BEFORE INSERT ON seen_events WHEN instr(NEW.key, '${marker}') > 0 BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END`);
    db.close();
    return;
  }
  const c = new Client({ connectionString: on.url });
  await c.connect();
  try {
    await c.query(`CREATE FUNCTION "${h.schema}".refuse_marked() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF strpos(NEW.key, '${marker}') > 0 THEN RAISE EXCEPTION 'refused by the test trigger'; END IF; RETURN NEW; END $$`);
    await c.query(`CREATE TRIGGER refuse_marked BEFORE INSERT ON "${h.schema}".seen_events FOR EACH ROW EXECUTE FUNCTION "${h.schema}".refuse_marked()`);
  } finally {
    await c.end();
  }
}

describeEachEngine('U+0000 and control characters in a webhook', (on) => {
  let h: Harness;
  let n = 0;
  beforeEach(async () => {
    h = await startHarness({ LINE_CHANNEL_SECRET: LINE_SECRET, FACEBOOK_APP_SECRET: META_SECRET, WHATSAPP_APP_SECRET: WHATSAPP_SECRET, HISTORY_STORE_TEXT: '1' }, RULES, on);
  });
  afterEach(async () => {
    await h.cleanup();
  });

  const postLine = (body: string) => request(h.app).post('/webhooks/line').set('content-type', 'application/json').set('x-line-signature', signLine(body, LINE_SECRET)).send(body);
  const postMeta = (path: string, body: string, secret: string) => request(h.app).post(path).set('content-type', 'application/json').set('x-hub-signature-256', signMeta(body, secret)).send(body);
  const taggedUsers = async () => {
    const ops = await h.store.claimOperations({ scope: { account: 'mantago' }, limit: 100, owner: 'cc', now: Date.now(), leaseMs: 60_000 });
    return ops.map((o) => o.userId).sort();
  };
  /** Two innocent users who wrote "coupon" around the bad event. */
  const innocents = () => {
    n++;
    return [`Uinnocent-a${n}`, `Uinnocent-b${n}`] as const;
  };

  it('HISTORY_STORE_TEXT=1: a text holding U+0000 between two "coupon" users → 200 on every delivery, both tagged, the text kept', async () => {
    const [a, b] = innocents();
    const body = lineBody([lineText('coupon', a), lineText(`coupon ${CONTROLS}`, 'Unul-text'), lineText('coupon', b)]);
    for (let delivery = 0; delivery < 3; delivery++) await postLine(body).expect(200, {});
    expect(await taggedUsers()).toEqual([a, b, 'Unul-text'].sort());
    const [stored] = (await h.store.userHistory('Unul-text')).events;
    expect(stored?.text).toBe('coupon a\\u0000b\u0001\u001f\u007f\u0085');
  });

  it.each([
    ['webhookEventId', (u: string) => lineText('coupon', u, { webhookEventId: `01H${NUL}X${NUL}` }), true],
    ['postback data', (u: string) => linePostback(`action=${CONTROLS}`, u), true],
    ['postback data and webhookEventId', (u: string) => linePostback(NUL, u, NUL), true],
    // not a text message any more: a message without text, which the coupon rule does not match
    ['message type', (u: string) => ({ ...lineText('coupon', u), message: { id: '1', type: `text${NUL}`, text: 'coupon' } }), false],
  ])('LINE: U+0000 in the %s → 200 on every delivery, the innocent users are tagged', async (_field, bad, badTagged) => {
    const [a, b] = innocents();
    const body = lineBody([lineText('coupon', a), bad('Ubad-field'), lineText('coupon', b)]);
    await postLine(body).expect(200, {});
    await postLine(body).expect(200, {});
    expect(await taggedUsers()).toEqual((badTagged ? [a, b, 'Ubad-field'] : [a, b]).sort());
    expect((await h.store.userHistory('Ubad-field')).events).toHaveLength(1);
  });

  it('LINE: a user id or a destination holding U+0000 → 200; a user id with control characters is no user (logged), the others are tagged', async () => {
    const [a, b] = innocents();
    const body = lineBody([lineText('coupon', a), lineText('coupon', `U${NUL}evil`), lineText('coupon', 'U\u0007bell'), lineText('coupon', b)], `Udest${NUL}`);
    await postLine(body).expect(200, {});
    expect(await taggedUsers()).toEqual([a, b].sort());
    const skipped = h.logs.parsed().filter((l) => l.message === 'event kept without a user: its user id cannot be used');
    expect(skipped.map((l) => l.problem)).toEqual(['the user id holds control characters', 'the user id holds control characters']);
  });

  it('an event the store refuses for any other reason fails neither its webhook nor its neighbours: 200, the others tagged, an error logged', async () => {
    await refuseEventIds(h, on, 'poison');
    const [a, b] = innocents();
    const body = lineBody([lineText('coupon', a), lineText('coupon', 'Upoisoned', { webhookEventId: '01POISON-poison' }), lineText('coupon', b)]);
    await postLine(body).expect(200, {});
    await postLine(body).expect(200, {});
    expect(await taggedUsers()).toEqual([a, b].sort());
    const refused = h.logs.parsed().filter((l) => l.message === 'event not stored: the store refused it; the rest of its webhook is stored');
    expect(refused).toHaveLength(2);
    expect(refused[0]).toMatchObject({ level: 'error', eventId: '01POISON-poison' });
    expect(String(refused[0]!.error)).toMatch(/refused by the test trigger/);
    // A webhook that is that one event alone is answered 500: the platform redelivers it.
    await postLine(lineBody([lineText('coupon', 'Upoisoned', { webhookEventId: '01POISON-poison-alone' })])).expect(500);
  });

  it('Messenger: U+0000 in a mid, a text and a postback payload → 200, every user tagged', async () => {
    const [a, b] = innocents();
    const item = (sender: string, mid: string, message: Record<string, unknown> | undefined, postback?: Record<string, unknown>) => ({
      sender: { id: sender },
      recipient: { id: 'PAGE-1' },
      timestamp: recentTimestamp(),
      ...(message ? { message: { mid, ...message } } : {}),
      ...(postback ? { postback: { mid, ...postback } } : {}),
    });
    const body = JSON.stringify({
      object: 'page',
      entry: [{ id: 'PAGE-1', time: 1, messaging: [item(a, 'm-a', { text: 'coupon' }), item('PSID-nul', `m${NUL}1`, { text: `coupon${NUL}` }), item('PSID-pb', `m${NUL}2`, undefined, { title: 'x', payload: `P${NUL}` }), item(b, 'm-b', { text: 'coupon' })] }],
    });
    await postMeta('/webhooks/facebook', body, META_SECRET).expect(200, {});
    await postMeta('/webhooks/facebook', body, META_SECRET).expect(200, {});
    expect(await taggedUsers()).toEqual([a, b, 'PSID-nul', 'PSID-pb'].sort());
  });

  it('WhatsApp: U+0000 in a wamid, a text and a phone_number_id → 200, every user tagged', async () => {
    const [a, b] = innocents();
    const message = (from: string, id: string, body: string) => ({ from, id, timestamp: String(Math.floor(recentTimestamp() / 1000)), type: 'text', text: { body } });
    const change = (pnid: string, messages: unknown[]) => ({ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '1', phone_number_id: pnid }, messages } });
    const body = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [{ id: 'WABA', changes: [change('PNID-1', [message(a, 'wamid.a', 'coupon'), message('886900000001', `wamid.${NUL}`, `coupon ${CONTROLS}`)]), change(`PNID${NUL}`, [message(b, 'wamid.b', 'coupon')])] }],
    });
    await postMeta('/webhooks/whatsapp', body, WHATSAPP_SECRET).expect(200, {});
    await postMeta('/webhooks/whatsapp', body, WHATSAPP_SECRET).expect(200, {});
    expect(await taggedUsers()).toEqual([a, b, '886900000001'].sort());
  });
});

describePostgres('a webhook stored event by event when the store becomes unavailable half-way (PostgreSQL)', (url) => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ LINE_CHANNEL_SECRET: LINE_SECRET, LINE_FORWARD_URLS: 'http://127.0.0.1:9/bot' }, RULES, { engine: 'postgres', url });
  });
  afterEach(async () => {
    await h.cleanup();
  });

  it('answers 503 with nothing forwarded (CONTRACT: nothing answered otherwise is forwarded), and its redelivery stores the forward once', async () => {
    // One event the store refuses (a trigger's error: the webhook is stored event by event), and
    // one it cannot store for want of the database (SQLSTATE 57014, a statement cancelled: unavailable).
    await refuseEventIds(h, { engine: 'postgres', url }, 'poison');
    const c = new Client({ connectionString: url });
    await c.connect();
    const stall = async (on: boolean) =>
      on
        ? c.query(`CREATE TRIGGER stall_marked BEFORE INSERT ON "${h.schema}".seen_events FOR EACH ROW EXECUTE FUNCTION "${h.schema}".stall_marked()`)
        : c.query(`DROP TRIGGER stall_marked ON "${h.schema}".seen_events`);
    try {
      await c.query(`CREATE FUNCTION "${h.schema}".stall_marked() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF strpos(NEW.key, 'stall') > 0 THEN RAISE EXCEPTION 'cancelled by the test trigger' USING ERRCODE = '57014'; END IF; RETURN NEW; END $$`);
      await stall(true);
      const body = lineBody([
        lineText('coupon', 'Ufirst'),
        lineText('coupon', 'Upoisoned', { webhookEventId: '01POISON-poison' }),
        lineText('coupon', 'Ustalled', { webhookEventId: '01STALL-stall' }),
        lineText('coupon', 'Ulast'),
      ]);
      const post = () => request(h.app).post('/webhooks/line').set('content-type', 'application/json').set('x-line-signature', signLine(body, LINE_SECRET)).send(body);
      const res = await post();
      expect(res.status).toBe(503);
      const claim = () => h.store.claimForwards({ limit: 10, owner: 't', now: Date.now(), leaseMs: 1 });
      expect(await claim()).toEqual([]);

      // The database answers again; the platform redelivers: 200, one forward, everyone but the refused event tagged.
      await stall(false);
      await post().expect(200, {});
      const forwards = await claim();
      expect(forwards.map((f) => f.body.toString())).toEqual([body]);
      const ops = await h.store.claimOperations({ scope: { account: 'mantago' }, limit: 10, owner: 't', now: Date.now(), leaseMs: 60_000 });
      expect(ops.map((o) => o.userId).sort()).toEqual(['Ufirst', 'Ulast', 'Ustalled']);
    } finally {
      await c.end();
    }
  });
});
