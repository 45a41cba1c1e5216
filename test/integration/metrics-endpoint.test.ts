import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { createMetrics } from '../../src/metrics';
import { startHarness, type Harness } from '../helpers/app-harness';

const TOKEN = 'metrics-token-0123456789abcdef';

describe('/metrics with METRICS_TOKEN', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ METRICS_TOKEN: TOKEN });
  });
  afterAll(async () => {
    await h.cleanup();
  });

  it('answers the right Bearer token with the series', async () => {
    const res = await request(h.app).get('/metrics').set('authorization', `Bearer ${TOKEN}`).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toContain('# TYPE autotag_webhooks_total counter');
  });

  it.each([
    ['no Authorization header', undefined],
    ['a wrong token', 'Bearer metrics-token-0123456789abcdeX'],
    ['a prefix of the token', `Bearer ${TOKEN.slice(0, -1)}`],
    ['the token followed by more', `Bearer ${TOKEN}0`],
    ['Basic credentials', `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`],
    ['the bare token', TOKEN],
  ])('refuses %s with a 401 JSON body and no series', async (_what, authorization) => {
    const req = request(h.app).get('/metrics');
    if (authorization !== undefined) req.set('authorization', authorization);
    const res = await req.expect(401);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="metrics"');
    expect(res.body).toEqual({ error: expect.stringMatching(/metrics token|METRICS_TOKEN/) });
    expect(res.text).not.toContain('autotag_');
    expect(res.text).not.toContain(TOKEN);
  });

  it('the token never appears in the series', async () => {
    const res = await request(h.app).get('/metrics').set('authorization', `Bearer ${TOKEN}`).expect(200);
    expect(res.text).not.toContain(TOKEN);
  });
});

describe('/metrics with a METRICS_TOKEN that has spaces in it', () => {
  // As ADMIN_TOKEN: everything after "Bearer " is the token (a passphrase is a valid token).
  const SPACED = 'correct horse battery staple';
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ METRICS_TOKEN: SPACED });
  });
  afterAll(async () => {
    await h.cleanup();
  });

  it('answers Authorization: Bearer <METRICS_TOKEN> with the series', async () => {
    const res = await request(h.app).get('/metrics').set('authorization', `Bearer ${SPACED}`).expect(200);
    expect(res.text).toContain('autotag_webhooks_total');
  });

  it('still refuses a part of it', async () => {
    await request(h.app).get('/metrics').set('authorization', 'Bearer correct horse').expect(401);
    await request(h.app).get('/metrics').set('authorization', 'Bearer correct').expect(401);
  });
});

describe('/metrics without METRICS_TOKEN', () => {
  it('stays open, as before', async () => {
    const h = await startHarness({});
    try {
      const res = await request(h.app).get('/metrics').expect(200);
      expect(res.text).toContain('autotag_webhooks_total');
    } finally {
      await h.cleanup();
    }
  });
});

describe('metric names', () => {
  it('the process and Node.js series carry the prefix once', async () => {
    const text = await createMetrics({ status: async () => ({ operations: queue(), forwards: queue(), channels: [], accounts: [], lifetimes: { running: 0, nextEndAt: null }, pauses: [] }) }).registry.metrics();
    expect(text).toMatch(/^autotag_process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^autotag_nodejs_eventloop_lag_seconds /m);
    expect(text).not.toMatch(/autotag_process_process_|autotag_process_nodejs_/);
    const names = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!);
    expect(names.filter((n) => !n.startsWith('autotag_'))).toEqual([]);
  });

  it('README lists every series of our own with each of its labels', async () => {
    const readme = fs.readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Metrics'));
    // prom-client keeps each metric's label names on the metric object (not in its typings).
    const own = createMetrics({ status: async () => ({ operations: queue(), forwards: queue(), channels: [], accounts: [], lifetimes: { running: 0, nextEndAt: null }, pauses: [] }), collectDefault: false })
      .registry.getMetricsAsArray()
      .map((m) => ({ name: m.name, labels: (m as unknown as { labelNames: string[] }).labelNames }));
    expect(own.length).toBeGreaterThan(10);
    for (const m of own) {
      const row = section.split('\n').find((l) => l.startsWith(`| \`${m.name}\``));
      expect({ metric: m.name, listed: row !== undefined }).toEqual({ metric: m.name, listed: true });
      for (const l of m.labels) expect({ metric: m.name, label: l, listed: row!.includes(`\`${l}\``) }).toEqual({ metric: m.name, label: l, listed: true });
    }
  });
});

describe('queue series when the store does not answer', () => {
  it('leaves them out and says so, rather than repeating the figures of an earlier scrape', async () => {
    let answers = true;
    const metrics = createMetrics({
      status: async () => {
        if (!answers) throw new Error('PostgreSQL is unavailable: Connection terminated unexpectedly');
        return {
          operations: { ...queue(), pending: 4, dead: 3 },
          forwards: queue(),
          channels: [],
          accounts: [],
          lifetimes: { running: 2, nextEndAt: 5000 },
          pauses: [
            { account: 'brand-a', until: Date.now() + 30_000 },
            { account: 'brand-b', until: Date.now() - 1 },
          ],
        };
      },
      collectDefault: false,
    });
    const before = await metrics.registry.metrics();
    expect(before).toContain('autotag_dead_letters{queue="operations"} 3');
    expect(before).toContain('autotag_queue_depth{queue="operations",state="pending"} 4');
    expect(before).toMatch(/^autotag_store_up 1$/m);
    expect(before).toMatch(/^autotag_lifetimes_running 2$/m);
    // Seconds left, for the accounts still paused only (brand-b's pause ended since it was read).
    const left = Number(/^autotag_account_paused_seconds\{account="brand-a"\} (\S+)$/m.exec(before)?.[1]);
    expect(left).toBeGreaterThan(25);
    expect(left).toBeLessThanOrEqual(30);
    expect(before).not.toContain('account="brand-b"');

    answers = false;
    const during = await metrics.registry.metrics();
    expect(during).not.toMatch(/^autotag_dead_letters\{/m);
    expect(during).not.toMatch(/^autotag_queue_depth\{/m);
    expect(during).not.toMatch(/^autotag_oldest_pending_age_seconds\{/m);
    expect(during).not.toMatch(/^autotag_lifetimes_running /m);
    expect(during).not.toMatch(/^autotag_account_paused_seconds\{/m);
    expect(during).toMatch(/^autotag_store_up 0$/m);

    answers = true;
    const after = await metrics.registry.metrics();
    expect(after).toContain('autotag_dead_letters{queue="operations"} 3');
    expect(after).toMatch(/^autotag_store_up 1$/m);
    expect(after).toMatch(/^autotag_lifetimes_running 2$/m);
  });

  it('reads the store once per scrape for all the queue series', async () => {
    let reads = 0;
    const metrics = createMetrics({
      status: async () => {
        reads++;
        return { operations: queue(), forwards: queue(), channels: [], accounts: [], lifetimes: { running: 0, nextEndAt: null }, pauses: [] };
      },
      collectDefault: false,
    });
    await metrics.registry.metrics();
    await metrics.registry.metrics();
    expect(reads).toBe(2);
  });
});

function queue() {
  return { pending: 0, due: 0, leased: 0, dead: 0, oldestPendingAgeMs: null };
}
