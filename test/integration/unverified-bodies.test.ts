import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { createApp } from '../../src/app';
import { ConfigError, loadConfig } from '../../src/config';
import { lineBody, lineText, startHarness, type Harness } from '../helpers/app-harness';
import { answerHeader, answerJson, postHead, rawRequest, type RawExchange } from '../helpers/raw-http';
import { signLine } from '../helpers/signatures';

const SECRET = 'unverified-line-secret';
const KIB = 1024;
const MAX_BODY = 256 * KIB;
const BUDGET = 1024 * KIB; // an eighth (128 KiB) kept for bodies of at most 64 KiB: large ones get 896 KiB
const BODY_TIMEOUT_MS = 2000;
const WRONG_SIGNATURE = `${'A'.repeat(43)}=`;

/**
 * The unverified-bytes budget, the body timeout and early answers, on the real app over a real
 * loopback socket (supertest cannot stall an upload). The 30 s and 10 s of the contract are
 * checked against the child process in unverified-bodies-process.test.ts.
 */
describe('webhook bodies before their signature is checked', () => {
  let h: Harness;
  let server: Server;
  let port: number;
  const open: RawExchange[] = [];

  beforeEach(async () => {
    h = await startHarness({ LINE_CHANNEL_SECRET: SECRET, MAX_BODY_BYTES: String(MAX_BODY), MAX_UNVERIFIED_BYTES: String(BUDGET) });
    const app = createApp({ config: h.config, log: h.log, metrics: h.metrics, store: h.store, rules: { current: () => h.ruleSet }, bodyTimeoutMs: BODY_TIMEOUT_MS });
    server = app.listen(0);
    await new Promise((r) => server.once('listening', r));
    port = (server.address() as AddressInfo).port;
  });
  afterEach(async () => {
    for (const x of open.splice(0)) x.socket.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await h.cleanup();
  });

  const held = async () => {
    const text = await h.metrics.registry.getSingleMetricAsString('autotag_unverified_body_bytes');
    return Number(/^autotag_unverified_body_bytes (\d+)$/m.exec(text)?.[1]);
  };
  const until = async (what: () => Promise<boolean> | boolean, ms = 5000) => {
    const end = Date.now() + ms;
    while (!(await what())) {
      if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  /** Declares `declared` bytes with a well-formed but wrong signature, sends `sent` of them and stalls. */
  const stalled = (declared: number, sent: number) => {
    const x = rawRequest(port, postHead('/webhooks/line', { 'Content-Type': 'application/json', 'Content-Length': declared, 'X-Line-Signature': WRONG_SIGNATURE }), Buffer.alloc(sent, 0x20));
    open.push(x);
    return x;
  };
  const signed = (text = 'coupon') => {
    const body = lineBody([lineText(text, 'Usigned')]);
    return fetch(`http://127.0.0.1:${port}/webhooks/line`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-line-signature': signLine(body, SECRET) }, body });
  };

  it('refuses a new body past the budget with 503, Retry-After and a JSON error before reading it, and closes its connection', async () => {
    // Three of the largest bodies and one of 128 KiB: the 896 KiB large bodies may take, in full.
    const holding = [stalled(MAX_BODY, 1000), stalled(MAX_BODY, 1000), stalled(MAX_BODY, 1000), stalled(128 * KIB, 1000)];
    await until(async () => (await held()) === 3 * MAX_BODY + 128 * KIB);
    const another = stalled(MAX_BODY, MAX_BODY - 1);
    await another.closed;
    expect(another.status()).toBe(503);
    expect(answerHeader(another.received(), 'retry-after')).toBe('2');
    expect(answerHeader(another.received(), 'connection')).toBe('close');
    expect(answerJson(another.received())).toEqual({ error: `too many unverified webhook bodies are being received at once (MAX_UNVERIFIED_BYTES (${BUDGET} bytes) is in use); try again later` });
    expect(await held()).toBe(3 * MAX_BODY + 128 * KIB);
    // An ordinary webhook still fits: the last eighth of the budget is kept for small bodies.
    expect((await signed()).status).toBe(200);
    // Bodies over 64 KiB may not take that part.
    const large = stalled(65 * KIB, 10);
    await large.closed;
    expect(large.status()).toBe(503);
    for (const x of holding) x.socket.destroy();
    await until(async () => (await held()) === 0);
    expect(holding.map((x) => x.status())).toEqual([undefined, undefined, undefined, undefined]);
    const text = await h.metrics.registry.getSingleMetricAsString('autotag_webhooks_total');
    expect(text).toContain('autotag_webhooks_total{platform="line",channel="line",outcome="unavailable"} 2');
  });

  it('gives the bytes back when a body is verified, rejected, too large, too slow or abandoned', async () => {
    expect((await signed()).status).toBe(200);
    expect(await held()).toBe(0);
    const wrong = stalled(50, 50);
    await until(() => wrong.status() !== undefined);
    expect(wrong.status()).toBe(401);
    expect(await held()).toBe(0);

    const slow = stalled(5000, 100);
    await until(async () => (await held()) === 5000);
    const closedAt = await slow.closed;
    expect(slow.status()).toBe(408);
    expect(answerHeader(slow.received(), 'connection')).toBe('close');
    expect(answerJson(slow.received())).toEqual({ error: `the body took longer than ${BODY_TIMEOUT_MS / 1000} s` });
    expect(closedAt - slow.startedAt).toBeGreaterThanOrEqual(BODY_TIMEOUT_MS - 50);
    expect(await held()).toBe(0);

    const gone = stalled(5000, 100);
    await until(async () => (await held()) === 5000);
    gone.socket.destroy();
    await until(async () => (await held()) === 0);
    expect((await signed()).status).toBe(200);
  });

  it('answers 413 as soon as a chunked body passes MAX_BODY_BYTES, not after the upload, and counts what arrived', async () => {
    const x = rawRequest(port, postHead('/webhooks/line', { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'X-Line-Signature': WRONG_SIGNATURE }));
    open.push(x);
    const chunk = Buffer.alloc(32 * KIB, 0x20);
    const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
    x.socket.write(frame);
    await until(async () => (await held()) >= chunk.length);
    // The rest, past the limit; the chunked body is never terminated.
    for (let sent = chunk.length; sent <= MAX_BODY; sent += chunk.length) x.socket.write(frame);
    await x.closed;
    expect(x.status()).toBe(413);
    expect(answerJson(x.received())).toEqual({ error: `body is larger than MAX_BODY_BYTES (${MAX_BODY} bytes)` });
    expect(await held()).toBe(0);
  });

  it('reads a gzip body as before: signed over the inflated bytes, 413 when it inflates past MAX_BODY_BYTES', async () => {
    const body = lineBody([lineText('coupon', 'Ugzip')]);
    const ok = await fetch(`http://127.0.0.1:${port}/webhooks/line`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', 'x-line-signature': signLine(body, SECRET) },
      body: gzipSync(body),
    });
    expect(ok.status).toBe(200);
    const bomb = gzipSync(Buffer.alloc(MAX_BODY * 4, 0x20));
    const res = await fetch(`http://127.0.0.1:${port}/webhooks/line`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', 'x-line-signature': WRONG_SIGNATURE },
      body: bomb,
    });
    expect(res.status).toBe(413);
    const unknown = await fetch(`http://127.0.0.1:${port}/webhooks/line`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'zip', 'x-line-signature': WRONG_SIGNATURE },
      body: '{}',
    });
    expect([unknown.status, await unknown.json()]).toEqual([415, { error: 'Content-Encoding "zip" is not supported (gzip, deflate, br or none)' }]);
    expect(await held()).toBe(0);
  });
});

describe('MAX_UNVERIFIED_BYTES', () => {
  it('defaults to 64 MiB, or MAX_BODY_BYTES when that is more, and must not be below MAX_BODY_BYTES', () => {
    expect(loadConfig({}).maxUnverifiedBytes).toBe(64 * 1024 * 1024);
    expect(loadConfig({ MAX_BODY_BYTES: String(100 * 1024 * 1024) }).maxUnverifiedBytes).toBe(100 * 1024 * 1024);
    expect(loadConfig({ MAX_UNVERIFIED_BYTES: '8388608' }).maxUnverifiedBytes).toBe(8388608);
    let error: unknown;
    try {
      loadConfig({ MAX_UNVERIFIED_BYTES: '1000', MAX_BODY_BYTES: '2000' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/MAX_UNVERIFIED_BYTES: 1000 is less than MAX_BODY_BYTES \(2000\)/);
  });
});
