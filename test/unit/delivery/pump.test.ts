import { GATHER_SHARE, Pump } from '../../../src/delivery/pump';

/** A pump over an in-memory queue whose calls take 1–4 ms each, ending one by one. */
function run(items: number, slots: number) {
  const queue = Array.from({ length: items }, (_, i) => i);
  const claims: number[] = [];
  const done: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const pump = new Pump<number>({
    name: 'test',
    concurrency: () => slots,
    async claim(limit) {
      const got = queue.splice(0, limit);
      if (got.length > 0) claims.push(got.length);
      return got;
    },
    async handle(item) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 1 + (item % 4)));
      inFlight--;
      done.push(item);
      if (done.length === items) finish();
    },
    nextDueAt: async () => (queue.length > 0 ? Date.now() : null),
    now: () => Date.now(),
    maxSleepMs: 50,
    onError: (err) => {
      throw err;
    },
  });
  return { pump, claims, done, finished, maxInFlight: () => maxInFlight };
}

describe('Pump: claims gather while calls end one by one', () => {
  it('claims for several ended calls at once, never exceeding its slots, and loses no item', async () => {
    const r = run(400, 16);
    r.pump.start();
    await r.finished;
    await r.pump.stop();
    expect(r.done.slice().sort((a, b) => a - b)).toEqual(Array.from({ length: 400 }, (_, i) => i));
    expect(r.maxInFlight()).toBeLessThanOrEqual(16);
    // One claim per ended call would be ~400 claims of 1; gathering makes them a quarter of the slots or so.
    const mean = r.claims.reduce((a, b) => a + b, 0) / r.claims.length;
    expect(mean).toBeGreaterThanOrEqual(Math.floor(16 * GATHER_SHARE) / 2);
    expect(r.claims.length).toBeLessThan(400 / 2);
  });

  it('with one slot, claims as each call ends: nothing to gather', async () => {
    const r = run(30, 1);
    r.pump.start();
    await r.finished;
    await r.pump.stop();
    expect(r.claims).toEqual(Array.from({ length: 30 }, () => 1));
    expect(r.maxInFlight()).toBe(1);
  });
});
