import { CallDeadlineError } from '../../../src/call-deadline';
import { sendForward } from '../../../src/delivery/forward';
import { startFakeTagApi, type FakeTagApi } from '../../helpers/fake-tag-api';

describe("a forward aborted by the worker's signal", () => {
  let downstream: FakeTagApi;
  beforeAll(async () => {
    downstream = await startFakeTagApi({ latencyMs: 3000 });
  });
  afterAll(async () => {
    await downstream.close();
  });

  it('ends at once, retryable, saying why; the destination sees the sender go away', async () => {
    const worker = new AbortController();
    const sent = sendForward(`${downstream.url}/hook`, Buffer.from('{}'), { 'content-type': 'application/json' }, { timeoutMs: 10_000, signal: worker.signal });
    await downstream.waitFor(() => downstream.inFlightCount === 1);
    worker.abort(new Error('the database session was lost'));
    const result = await sent;
    expect(result).toEqual({ ok: false, retryable: true, reason: `abandoned at ${new URL(downstream.url).host}: the database session was lost` });
    const [seen] = await downstream.waitFor(1);
    expect(seen?.abandoned).toBe(true);
  });

  it("ended by its lease's call deadline (FORWARD_TIMEOUT_MS after the claim): a timeout, not abandoned", async () => {
    const lease = new AbortController();
    const sent = sendForward(`${downstream.url}/hook`, Buffer.from('{}'), { 'content-type': 'application/json' }, { timeoutMs: 10_000, signal: lease.signal });
    await downstream.waitFor(() => downstream.inFlightCount === 1);
    lease.abort(new CallDeadlineError(1000));
    const result = await sent;
    const host = new URL(downstream.url).host;
    expect(result).toEqual({ ok: false, retryable: true, reason: `timed out at ${host}: no answer before the call deadline of its lease passed (1000 ms after the claim) (FORWARD_TIMEOUT_MS)` });
    // A deadline passed before the forward could start: nothing is sent, and it says so.
    const requests = downstream.requests.length;
    const none = await sendForward(`${downstream.url}/hook`, Buffer.from('{}'), {}, { timeoutMs: 10_000, signal: lease.signal });
    expect(none).toEqual({ ok: false, retryable: true, reason: `not sent to ${host}: the call deadline of its lease passed (1000 ms after the claim)` });
    expect(downstream.requests.length).toBe(requests);
  });
});
