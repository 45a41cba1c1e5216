import request from 'supertest';
import { createAdminRouter } from '../../src/admin';
import { createApp, type App } from '../../src/app';
import { startHarness, type Harness } from '../helpers/app-harness';
import { accepted, batch, tagOp } from '../store/builders';

const TOKEN = 'admin-token-for-long-lists-8d2e';
/** The page shows the newest 100 dead letters and a user's latest 200 events. */
const DEAD = 105;
const EVENTS = 205;

describe('/admin with more dead letters and history than it lists', () => {
  let h: Harness;
  let admin: App;
  const bearer = (path: string) => request(admin).get(path).set('authorization', `Bearer ${TOKEN}`).expect(200);

  beforeAll(async () => {
    h = await startHarness({ ADMIN_TOKEN: TOKEN });
    const router = createAdminRouter({ config: h.config, store: h.store, rules: () => h.ruleSet, log: h.log });
    admin = createApp({ config: h.config, log: h.log, metrics: h.metrics, store: h.store, rules: { current: () => h.ruleSet }, admin: router });
    const now = Date.now();
    const ops = Array.from({ length: DEAD }, (_, i) => tagOp({ userId: 'Udead', tagId: `t${i}` }));
    await h.store.accept(batch(now, [accepted(`dead-${now}`, ops, { event: { userId: 'Udead' } })]));
    const claimed = await h.store.claimOperations({ scope: { account: 'mantago' }, limit: DEAD, owner: 'w', now, leaseMs: 60_000 });
    for (const op of claimed) await h.store.deadLetterOperation(op, 'w', now, { reason: '400 from mantago: bad tag', status: 400 });
    const events = Array.from({ length: EVENTS }, (_, i) => accepted(`long-${i}`, [], { event: { userId: 'Ulong', timestamp: now - EVENTS + i } }));
    await h.store.accept(batch(now, events));
  });
  afterAll(async () => h.cleanup());

  it('the dead letters table says it shows the newest 100 of how many, and retry all names them all', async () => {
    const page = await bearer('/admin');
    const section = page.text.slice(page.text.indexOf('id="dead-letters"'), page.text.indexOf('</section>', page.text.indexOf('id="dead-letters"')));
    expect(section).toContain(`<h2>Dead letters: ${DEAD} <span class="muted">(the newest 100 of ${DEAD})</span></h2>`);
    expect(section.match(/aria-label="Retry op-/g)).toHaveLength(100);
    expect(section).toContain(`Retry all ${DEAD}`);

    // status.json: the newest 100, and the queue counts say how many there are in all.
    const json = await bearer('/admin/status.json');
    expect(json.body.deadLetters).toHaveLength(100);
    expect(json.body.queue.operations.dead + json.body.queue.forwards.dead).toBe(DEAD);
  });

  it("a user's lookup says when only the latest events are shown, and how many there are", async () => {
    const page = await bearer('/admin?user=Ulong');
    expect(page.text).toContain(`History of <code>Ulong</code>: 200 events, 0 tag calls. Only the latest are shown: ${EVENTS} events, 0 tag calls and 0 running lifetimes in all.</p>`);
    const json = await bearer('/admin/history.json?user=Ulong');
    expect(json.body.events).toHaveLength(200);
    expect(json.body).toMatchObject({ total: { events: EVENTS, calls: 0, expiring: 0 }, truncated: true });

    const short = await bearer('/admin?user=Udead');
    expect(short.text).toContain(`History of <code>Udead</code>: 1 event, ${DEAD} tag calls.</p>`);
  });
});
