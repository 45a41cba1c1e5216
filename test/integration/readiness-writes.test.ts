import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import request from 'supertest';
import { COMMIT_PROBE_CACHE_MS, COMMIT_PROBE_WAIT_MS } from '../../src/store/shared/commit-probe';
import { signLine } from '../helpers/signatures';
import { lineBody, lineText, startHarness, tempDir, type Harness } from '../helpers/app-harness';
import { describePostgres, newSchemaName } from '../helpers/pg-schema';
import { createAdminRouter } from '../../src/admin/router';
import { createApp } from '../../src/app';
import { startTcpProxy } from '../store/tcp-proxy';

/*
 * CONTRACT.md, GET /readyz: ready only while the store can commit — a store whose last write
 * failed (disk full, read-only) is not ready, and it turns ready again by itself. A read-only
 * check answered "ready" while every webhook got 503 (SQLITE_FULL).
 */

const SECRET = 'line-secret-readiness';
const ADMIN_TOKEN = 'admin-token-readiness-0123456789';
const until = async (what: string, ok: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> => {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

/** The harness's app with /admin mounted (ADMIN_TOKEN in its environment). */
const withAdmin = (h: Harness) =>
  createApp({ config: h.config, log: h.log, metrics: h.metrics, store: h.store, rules: { current: () => h.ruleSet }, admin: createAdminRouter({ config: h.config, store: h.store, rules: () => h.ruleSet, log: h.log }) });

const post = (h: Harness, userId: string, text = 'coupon') => {
  const body = lineBody([lineText(text, userId)]);
  return request(h.app).post('/webhooks/line').set('content-type', 'application/json').set('x-line-signature', signLine(body, SECRET)).send(body);
};

/** A 1 MiB tmpfs, when this process may mount one (root in a VM or CI container); else undefined. */
function tinyDisk(): string | undefined {
  const dir = tempDir('autotag-tiny-disk-');
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'ignore' });
  if (mounted.status === 0) return dir;
  fs.rmSync(dir, { recursive: true, force: true });
  return undefined;
}

const disk = tinyDisk();
(disk ? describe : describe.skip)(`SQLite on a disk that fills up${disk ? '' : ' (skipped: cannot mount a tmpfs here; needs root)'}`, () => {
  let h: Harness;
  const dir = disk as string;
  const filler = path.join(dir, 'filler');
  beforeAll(async () => {
    h = await startHarness({ LINE_CHANNEL_SECRET: SECRET, ADMIN_TOKEN }, undefined, { engine: 'sqlite', file: path.join(dir, 'autotag.db') });
  });
  afterAll(async () => {
    await h.cleanup();
    spawnSync('umount', [dir]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 with SQLITE_FULL while the disk is full, and ready again once space is freed', async () => {
    await post(h, 'Ubefore').expect(200);
    await request(h.app).get('/readyz').expect(200);

    // Fill the disk to the last byte.
    const fd = fs.openSync(filler, 'w');
    const chunk = Buffer.alloc(16 * 1024, 1);
    try {
      for (;;) fs.writeSync(fd, chunk);
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
    try {
      for (;;) fs.writeSync(fd, chunk.subarray(0, 512));
    } catch {
      /* full */
    }
    fs.closeSync(fd);

    // Webhooks fail as soon as SQLite needs a page it cannot get (the WAL may still hold a few).
    let refused: request.Response | undefined;
    for (let i = 0; i < 200 && !refused; i++) {
      const res = await post(h, `Ufull-${i}`, `coupon ${'x'.repeat(2000)}`);
      if (res.status !== 200) refused = res;
    }
    expect(refused?.status).toBe(503);
    expect(refused?.body.error).toMatch(/SQLITE_FULL/);
    const notReady = await request(h.app).get('/readyz');
    expect(notReady.status).toBe(503);
    expect(notReady.body.reason).toMatch(/^store \(sqlite\): .*SQLITE_FULL/);

    // Once the failed accept is older than the probe's cache, the probe itself finds the disk full.
    await new Promise((r) => setTimeout(r, COMMIT_PROBE_CACHE_MS + 100));
    const probed = await request(h.app).get('/readyz');
    expect(probed.status).toBe(503);
    expect(probed.body.reason).toMatch(/SQLITE_FULL/);
    // /admin/status.json reads what the store holds, and says the writes are refused.
    const adminApp = withAdmin(h);
    const json = await request(adminApp).get('/admin/status.json').set('authorization', `Bearer ${ADMIN_TOKEN}`);
    expect(json.status).toBe(200);
    expect(json.body.storeWriteError).toMatch(/SQLITE_FULL/);

    fs.rmSync(filler);
    await until('/readyz to answer 200 after space was freed', async () => (await request(h.app).get('/readyz')).status === 200);
    await post(h, 'Uafter').expect(200);
  });

});

describePostgres('PostgreSQL that stops taking writes (a read-only database)', (url) => {
  const role = newSchemaName('autotag_ro');
  const admin = new Client({ connectionString: url });
  let h: Harness;
  const terminate = () => admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [role]);

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE ROLE ${role} LOGIN`);
    await admin.query(`GRANT CREATE ON DATABASE "${new URL(url).pathname.slice(1)}" TO ${role}`);
    const asRole = new URL(url);
    asRole.username = role;
    h = await startHarness({ LINE_CHANNEL_SECRET: SECRET, ADMIN_TOKEN }, undefined, { engine: 'postgres', url: asRole.toString() });
  });
  afterAll(async () => {
    await admin.query(`ALTER ROLE ${role} RESET default_transaction_read_only`);
    await terminate();
    await h.cleanup().catch(() => undefined);
    await admin.query(`DROP SCHEMA IF EXISTS "${h.schema}" CASCADE`);
    await admin.query(`DROP OWNED BY ${role}`);
    await admin.query(`DROP ROLE ${role}`);
    await admin.end();
  });

  it('is not ready while writes fail, and ready again once they succeed', async () => {
    await post(h, 'Ubefore').expect(200);
    await request(h.app).get('/readyz').expect(200);

    // Every new session of the store's role is read-only, as on a standby after a failover.
    await admin.query(`ALTER ROLE ${role} SET default_transaction_read_only = on`);
    await terminate();
    await until('a webhook to be refused', async () => (await post(h, 'Uduring')).status === 503);
    // The first failure may be the terminated session's own (57P01); the next write the probe
    // tries on a new session is refused as read-only, and that is what /readyz then says.
    await until('/readyz to answer 503 naming the read-only database', async () => {
      const r = await request(h.app).get('/readyz');
      return r.status === 503 && /read-only/.test(String(r.body.reason));
    });
    // Reads still work: it is the write that is refused.
    await h.store.ping();
    const notReady = await request(h.app).get('/readyz');
    expect(notReady.status).toBe(503);
    expect(notReady.body.reason).toMatch(/^store \(postgres\): .*read-only/);
    // /admin shows what the store holds, and that it takes no writes (it said "✓ … answers.").
    const adminApp = withAdmin(h);
    const json = await request(adminApp).get('/admin/status.json').set('authorization', `Bearer ${ADMIN_TOKEN}`);
    expect(json.status).toBe(200);
    expect(json.body.storeWriteError).toMatch(/read-only/);
    expect(json.body.queue.operations).toBeDefined();
    const page = await request(adminApp).get('/admin').set('authorization', `Bearer ${ADMIN_TOKEN}`);
    expect(page.status).toBe(200);
    // (The harness's configuration names SQLite: it hands the app its store itself.)
    expect(page.text).toMatch(/<summary><strong>Setup<\/strong>: [^<]* \(not taking writes\), /);
    expect(page.text).toMatch(/answers reads, but cannot commit a write: <code>[^<]*read-only[^<]*<\/code> — webhooks get 503 until it can\./);
    expect(page.text).toMatch(/<details id="setup" class="panel" open>/);

    await admin.query(`ALTER ROLE ${role} RESET default_transaction_read_only`);
    await terminate();
    await until('/readyz to answer 200', async () => (await request(h.app).get('/readyz')).status === 200);
    await post(h, 'Uafter').expect(200);
    const healed = await request(withAdmin(h)).get('/admin/status.json').set('authorization', `Bearer ${ADMIN_TOKEN}`);
    expect(healed.body.storeWriteError).toBeNull();
    const healedPage = await request(withAdmin(h)).get('/admin').set('authorization', `Bearer ${ADMIN_TOKEN}`);
    expect(healedPage.text).not.toContain('not taking writes');
  });

  it('answers webhooks 503, not 500, while its role may not log in (revoked or rotated credentials)', async () => {
    await post(h, 'Ubefore-nologin').expect(200);
    await admin.query(`ALTER ROLE ${role} NOLOGIN`);
    await terminate();
    try {
      // The terminated session's own failure may come first (57P01); the next connection is refused with 28000.
      await until('a webhook to be refused', async () => (await post(h, 'Uduring-nologin')).status !== 200);
      const refused = await post(h, 'Uduring-nologin');
      expect(refused.status).toBe(503);
      expect(refused.body).toEqual({ error: expect.stringMatching(/store/) });
      const notReady = await request(h.app).get('/readyz');
      expect(notReady.status).toBe(503);
      expect(notReady.body.reason).toMatch(/not permitted to log in/);
    } finally {
      await admin.query(`ALTER ROLE ${role} LOGIN`);
    }
    await until('a webhook to be stored again', async () => (await post(h, 'Uafter-nologin')).status === 200);
  });
});

describePostgres('PostgreSQL that stops answering (a silent network partition)', (url) => {
  it('/readyz answers 503 within the probe wait, not after the query read timeout', async () => {
    const u = new URL(url);
    const proxy = await startTcpProxy({ host: u.hostname, port: Number(u.port || 5432) });
    const viaProxy = new URL(url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const h = await startHarness({ LINE_CHANNEL_SECRET: SECRET }, undefined, { engine: 'postgres', url: viaProxy.toString() });
    try {
      await request(h.app).get('/readyz').expect(200);
      await new Promise((r) => setTimeout(r, COMMIT_PROBE_CACHE_MS + 100)); // the next check probes again
      proxy.blackhole();
      const asked = Date.now();
      const res = await request(h.app).get('/readyz');
      const tookMs = Date.now() - asked;
      expect(res.status).toBe(503);
      expect(res.body.reason).toBe(`store (postgres): the store did not commit a write within ${COMMIT_PROBE_WAIT_MS} ms (still waiting for it)`);
      // The harness's statement timeout is 10 s: without the wait the answer took that long or more.
      expect(tookMs).toBeLessThan(COMMIT_PROBE_WAIT_MS + 3000);
    } finally {
      await proxy.close();
      await h.cleanup().catch(() => undefined);
    }
  }, 30_000);
});
