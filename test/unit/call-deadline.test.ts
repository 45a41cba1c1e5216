import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setCallDeadline } from '../../src/call-deadline';
import { CallLease } from '../../src/delivery/call-lease';
import { sendForward } from '../../src/delivery/forward';
import { TagApiError } from '../../src/providers/errors';
import { createHttpClient, type HttpClient } from '../../src/providers/http';

/** Keeps the event loop busy (as a long commit or a starved process does) until `until` (epoch ms). */
function busyUntil(until: number): void {
  while (Date.now() < until) {
    // spin
  }
}

/**
 * A loopback server that answers each request `answerMs` after it arrived and, BUSY_FROM_MS
 * after it arrived, keeps this process's event loop busy until BUSY_UNTIL_MS after it arrived
 * (client and server share the loop here). A deadline that comes due inside that stretch finds,
 * when the loop is free again, the answer already written to the socket if `answerMs` is in it
 * too, and nothing yet if it is after it.
 */
const BUSY_FROM_MS = 50;
const BUSY_UNTIL_MS = 800;
/** Inside the busy stretch, and after an answer that comes at ANSWER_MS. */
const DEADLINE_MS = 600;
/**
 * Inside the busy stretch and before the deadline. The server runs in this process, so on a
 * loaded machine it may get to a request a while after the client sent it: the deadline, which
 * counts from the send, still comes due inside the stretch while that delay is under
 * DEADLINE_MS - BUSY_FROM_MS (550 ms; with a 300 ms deadline it was 250 ms, which a machine
 * running three other jobs once exceeded, and the deadline passed before the stretch began).
 */
const ANSWER_MS = 400;

class StallingServer {
  answerMs = ANSWER_MS;
  readonly closedEarly: boolean[] = [];
  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<StallingServer> {
    let self: StallingServer | undefined;
    const server = http.createServer((req, res) => {
      const arrived = Date.now();
      req.resume();
      const answer = setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"success":true}');
      }, self!.answerMs);
      res.on('close', () => {
        clearTimeout(answer);
        self!.closedEarly.push(!res.writableFinished);
      });
      setTimeout(() => busyUntil(arrived + BUSY_UNTIL_MS), BUSY_FROM_MS);
    });
    server.keepAliveTimeout = 100;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (self = new StallingServer(server));
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe('setCallDeadline', () => {
  it('acts once its time has passed, never before', async () => {
    const started = Date.now();
    const passedAt = await new Promise<number>((resolve) => setCallDeadline(() => resolve(Date.now()), 60));
    expect(passedAt - started).toBeGreaterThanOrEqual(59);
  });

  it('does not act once cleared, whether its timer has come due or not', async () => {
    let acted = 0;
    setCallDeadline(() => acted++, 20).clear();
    // Cleared in the turn its timer came due, before the end of that turn: both timers are
    // made due before the loop gets to them (the thread is held past their time), so they run
    // in the same timers phase, the deadline's first — as they would when a call's answer and
    // its deadline come due together. Without the hold, a machine that reaches the timers
    // between the two expiries runs them in separate turns, and the test meant nothing there.
    const due = setCallDeadline(() => acted++, 20);
    setTimeout(() => due.clear(), 20);
    const heldUntil = Date.now() + 30;
    while (Date.now() < heldUntil) {
      // Holding the thread, on purpose.
    }
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(acted).toBe(0);
  });
});

/**
 * A call's deadline that comes due while the event loop is busy counts an answer that had
 * arrived by then (it was once thrown away as a timeout, and the operation tagged again).
 */
describe('an answer that is there when a busy event loop gets to the deadline counts', () => {
  let server: StallingServer;
  beforeAll(async () => {
    server = await StallingServer.start();
  });
  afterAll(async () => {
    await server.close();
  });

  describe('a tag API call (TAG_API_TIMEOUT_MS)', () => {
    let client: HttpClient;
    beforeAll(() => {
      client = createHttpClient({ provider: 'mantago', baseUrl: server.url, timeoutMs: DEADLINE_MS, secrets: () => [] });
    });
    afterAll(async () => {
      await client.close();
    });
    const send = (signal?: AbortSignal) => client.send({ method: 'POST', path: '/tag', bearer: 'token', body: {}, ...(signal ? { signal } : {}) });

    it('an answer written while the loop was busy past the deadline is returned', async () => {
      server.answerMs = ANSWER_MS;
      const answer = await send();
      expect(answer).toMatchObject({ status: 200, json: { success: true } });
    });

    it('an answer that was not there yet is a retryable timeout, and the call goes away', async () => {
      server.answerMs = BUSY_UNTIL_MS + 300;
      const before = server.closedEarly.length;
      const err = await send().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TagApiError);
      expect(err).toMatchObject({ retryable: true, reason: `timeout from mantago after ${DEADLINE_MS} ms (POST /tag)` });
      for (let waited = 0; server.closedEarly.length === before && waited < 2000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(server.closedEarly.slice(before)).toEqual([true]);
    });

    it("the lease's call deadline (LEASE_MS, a claim's calls) counts the answer too", async () => {
      const slow = createHttpClient({ provider: 'mantago', baseUrl: server.url, timeoutMs: 10_000, secrets: () => [] });
      try {
        server.answerMs = ANSWER_MS;
        const lease = new CallLease(new AbortController().signal, DEADLINE_MS);
        lease.hold(1);
        const answer = await slow.send({ method: 'POST', path: '/tag', bearer: 'token', body: {}, signal: lease.signal });
        lease.done();
        expect(answer.status).toBe(200);
        expect(lease.signal.aborted).toBe(false);
      } finally {
        await slow.close();
      }
    });
  });

  describe('a forward (FORWARD_TIMEOUT_MS)', () => {
    it('an answer written while the loop was busy past the deadline is a success', async () => {
      server.answerMs = ANSWER_MS;
      expect(await sendForward(`${server.url}/hook`, Buffer.from('{}'), { 'content-type': 'application/json' }, { timeoutMs: DEADLINE_MS })).toMatchObject({ ok: true, status: 200 });
    });

    it('an answer that was not there yet is a retryable timeout', async () => {
      server.answerMs = BUSY_UNTIL_MS + 300;
      const result = await sendForward(`${server.url}/hook`, Buffer.from('{}'), { 'content-type': 'application/json' }, { timeoutMs: DEADLINE_MS });
      expect(result).toEqual({ ok: false, retryable: true, reason: `timed out after ${DEADLINE_MS} ms (FORWARD_TIMEOUT_MS) at ${new URL(server.url).host}` });
    });
  });
});
