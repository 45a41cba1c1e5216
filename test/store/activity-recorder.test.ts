import { createLogger } from '../../src/log';
import { createActivityRecorder } from '../../src/store/shared/activity-recorder';
import type { ActivityCount } from '../../src/store/store';
import { LogLines } from '../helpers/app-harness';

const T = 1_800_000_000_000; // a minute start

describe('activity recorder (the /admin chart counts)', () => {
  const writes: ActivityCount[][] = [];
  const logs = new LogLines();
  const log = createLogger({ level: 'info', stream: logs.stream });
  beforeEach(() => {
    writes.length = 0;
    logs.lines.length = 0;
  });

  it('merges counts by minute, series and key, and writes them once after the interval', async () => {
    const rec = createActivityRecorder(async (rows) => void writes.push(rows), log, 50);
    rec.count(T + 1, 'webhook', 'line');
    rec.count(T + 59_999, 'webhook', 'line', 2);
    rec.count(T + 60_000, 'webhook', 'line');
    rec.count(T + 5, 'rule', 'coupon');
    expect(writes).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 120));
    expect(writes).toEqual([
      [
        { minute: T, series: 'webhook', key: 'line', count: 3 },
        { minute: T + 60_000, series: 'webhook', key: 'line', count: 1 },
        { minute: T, series: 'rule', key: 'coupon', count: 1 },
      ],
    ]);
  });

  it('flush writes what is gathered at once, including what was counted during a write', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const rec = createActivityRecorder(
      async (rows) => {
        writes.push(rows);
        if (writes.length === 1) await gate;
      },
      log,
      60_000,
    );
    rec.count(T, 'call', 'applied');
    const first = rec.flush();
    rec.count(T, 'call', 'applied'); // during the first write
    release();
    await first;
    expect(writes).toEqual([[{ minute: T, series: 'call', key: 'applied', count: 1 }], [{ minute: T, series: 'call', key: 'applied', count: 1 }]]);
  });

  it('a failed write loses its counts with a warning that says how many', async () => {
    const rec = createActivityRecorder(async () => Promise.reject(new Error('disk I/O error')), log, 60_000);
    rec.count(T, 'webhook', 'line', 4);
    rec.count(T, 'throttled', 'mantago');
    await rec.flush();
    const warning = logs.parsed().find((l) => l.message === 'activity counts for /admin charts not written');
    expect(warning).toMatchObject({ lost: 5, error: 'disk I/O error' });
    await rec.flush(); // nothing left to retry
    expect(logs.parsed().filter((l) => l.message === 'activity counts for /admin charts not written')).toHaveLength(1);
  });
});
