import { PassThrough } from 'node:stream';
import { createLogger, silentLogger } from '../../src/log';
import { createAnnouncer, queuedKinds, type Announcements } from '../../src/store/postgres/announcer';
import type { WorkKind } from '../../src/store/store';

const both: Announcements = { operations: true, forwards: true };
const none: Announcements = { operations: false, forwards: false };
const ops: Announcements = { operations: true, forwards: false };

/** An announcer on a clock the test moves; its sends are recorded, and each can be awaited. */
function setUp(windowMs: number, send?: (kind: WorkKind) => Promise<void>) {
  let t = 1000;
  const sent: WorkKind[] = [];
  let onSend: (() => void) | undefined;
  const announcer = createAnnouncer({
    windowMs,
    now: () => t,
    log: silentLogger(),
    send: async (kind) => {
      sent.push(kind);
      onSend?.();
      if (send) await send(kind);
    },
  });
  return {
    announcer,
    sent,
    advance: (ms: number) => void (t += ms),
    nextSend: () => new Promise<void>((resolve) => (onSend = resolve)),
  };
}

describe('announcer: NOTIFY at most once per window and kind', () => {
  it('lets the first commit of a window announce itself, and the next ones only after the window', () => {
    const { announcer, sent, advance } = setUp(60_000);
    expect(announcer.inline()).toEqual(both);
    announcer.committed(ops, both);
    expect(announcer.inline()).toEqual({ operations: false, forwards: true });
    advance(59_999);
    expect(announcer.inline().operations).toBe(false);
    advance(1);
    expect(announcer.inline().operations).toBe(true);
    // The commit announced itself: nothing is sent besides it.
    expect(sent).toEqual([]);
  });

  it('does not count a commit that queued nothing as an announcement', () => {
    const { announcer, sent } = setUp(60_000);
    announcer.committed(none, both);
    expect(announcer.inline()).toEqual(both);
    expect(sent).toEqual([]);
  });

  it('announces the work committed within the window once, when the window ends', async () => {
    const { announcer, sent, nextSend } = setUp(30);
    announcer.committed(ops, announcer.inline());
    const sending = nextSend();
    for (let i = 0; i < 5; i++) {
      const inline = announcer.inline();
      expect(inline.operations).toBe(false);
      announcer.committed(ops, inline);
    }
    // Scheduled, not sent: a wake-up never goes out before the window ends.
    expect(sent).toEqual([]);
    await sending;
    expect(sent).toEqual(['operations']);
    // That announcement starts the next window.
    expect(announcer.inline().operations).toBe(false);
  });

  it('paces each kind on its own', () => {
    const { announcer } = setUp(60_000);
    announcer.committed({ operations: false, forwards: true }, both);
    expect(announcer.inline()).toEqual({ operations: true, forwards: false });
  });

  it('sends what waits at once on flush, and nothing later', async () => {
    const { announcer, sent } = setUp(60_000);
    announcer.committed(both, both);
    announcer.committed(both, announcer.inline());
    expect(sent).toEqual([]);
    await announcer.flush();
    expect(sent.sort()).toEqual(['forwards', 'operations']);
    await announcer.flush();
    expect(sent).toHaveLength(2);
  });

  it('logs a failed announcement as a warning and goes on', async () => {
    const stream = new PassThrough();
    const lines: string[] = [];
    stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
    const announcer = createAnnouncer({
      windowMs: 60_000,
      log: createLogger({ stream }),
      send: async () => {
        throw new Error('connection terminated');
      },
    });
    announcer.committed(ops, announcer.inline());
    announcer.committed(ops, announcer.inline());
    await expect(announcer.flush()).resolves.toBeUndefined();
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ level: 'warn', message: 'announcing new work to the other instances failed', kind: 'operations', error: 'connection terminated' }),
    ]);
  });

  it('reads the kinds a commit queued from its results', () => {
    expect(queuedKinds([{ operationsQueued: 0, forwardsQueued: 0 }, { operationsQueued: 2, forwardsQueued: 0 }])).toEqual(ops);
    expect(queuedKinds([{ operationsQueued: 0, forwardsQueued: 1 }])).toEqual({ operations: false, forwards: true });
    expect(queuedKinds([])).toEqual(none);
  });
});
