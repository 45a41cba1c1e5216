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
});
