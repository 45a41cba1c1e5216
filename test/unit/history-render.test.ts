import { renderHistory } from '../../src/cli/history';
import { isoTime } from '../../src/format-time';
import { describeOperation } from '../../src/providers/describe-operation';
import type { HistoryEvent, UserHistory } from '../../src/store/store';

const event = (over: Partial<HistoryEvent>): HistoryEvent => ({
  id: 1,
  receivedAt: Date.UTC(2026, 11, 5, 2, 0, 0),
  platform: 'line',
  channel: 'line',
  recipient: 'C1',
  userId: 'U1',
  eventId: 'ev',
  kind: 'message',
  type: 'message/text',
  matched: [],
  operations: [],
  ...over,
});

const historyOf = (events: HistoryEvent[]): UserHistory => ({
  userId: 'U1',
  events,
  calls: [],
  expiring: [],
  total: { events: events.length, calls: 0, expiring: 0 },
  truncated: false,
});

describe("the history's event times", () => {
  const received = Date.UTC(2026, 11, 5, 2, 0, 0);

  it('shows the platform time only when it is a second or more from the receipt, and not for events stored without one', () => {
    const out = renderHistory(
      historyOf([
        event({ eventId: 'late', eventAt: received - 5 * 60_000 }),
        event({ eventId: 'ahead', eventAt: received + 1000 }),
        event({ eventId: 'prompt', eventAt: received - 999 }),
        event({ eventId: 'older-release' }),
      ]),
      describeOperation,
    );
    expect(out).toContain('(event late, dated 2026-12-05T01:55:00.000Z, channel line)');
    expect(out).toContain('(event ahead, dated 2026-12-05T02:00:01.000Z, channel line)');
    expect(out).toContain('(event prompt, channel line)');
    expect(out).toContain('(event older-release, channel line)');
  });

  it('measures a time in whole seconds (WhatsApp) from the end of its second: a message delivered at once is not shown as dated', () => {
    const second = Date.UTC(2026, 11, 5, 2, 0, 16);
    const out = renderHistory(
      historyOf([
        event({ eventId: 'wamid.prompt', receivedAt: second + 1081, eventAt: second }),
        event({ eventId: 'wamid.late', receivedAt: second + 2000, eventAt: second }),
        event({ eventId: 'wamid.ahead', receivedAt: second - 1000, eventAt: second }),
      ]),
      describeOperation,
    );
    expect(out).toContain('(event wamid.prompt, channel line)');
    expect(out).toContain('(event wamid.late, dated 2026-12-05T02:00:16.000Z, channel line)');
    expect(out).toContain('(event wamid.ahead, dated 2026-12-05T02:00:16.000Z, channel line)');
  });

  it('prints a time no date can hold as a number instead of failing the whole command', () => {
    // A platform may date an event up to 2^53 ms; a Date holds up to 8.64e15.
    expect(isoTime(9_000_000_000_000_000)).toBe('9000000000000000 ms since 1970');
    expect(renderHistory(historyOf([event({ eventAt: 9_000_000_000_000_000 })]), describeOperation)).toContain('dated 9000000000000000 ms since 1970');
    expect(isoTime(received)).toBe('2026-12-05T02:00:00.000Z');
  });
});

describe("the history's running lifetimes", () => {
  const now = Date.UTC(2026, 11, 5, 2, 0, 0);
  const op = { action: 'add' as const, provider: 'mantago' as const, kind: 'personal' as const, tagId: 'tag-trial', platform: 'line' as const, recipient: 'C1', userId: 'U1', account: 'mantago', channel: 'line' };

  it('says "removed at" for a lifetime still running, and that the removal is due for one that ended while the service was stopped', () => {
    const h: UserHistory = {
      ...historyOf([]),
      expiring: [
        { operation: op, expiresAt: now + 60_000, rule: 'trial' },
        { operation: { ...op, tagId: 'tag-old' }, expiresAt: now - 3_600_000, rule: 'trial' },
        { operation: { ...op, tagId: 'tag-now' }, expiresAt: now },
      ],
      total: { events: 0, calls: 0, expiring: 3 },
    };
    const out = renderHistory(h, describeOperation, now);
    expect(out).toContain('will expire:\n  add mantago/personal tag tag-trial: removed at 2026-12-05T02:01:00.000Z (for: of rule trial)\n');
    expect(out).toContain('  add mantago/personal tag tag-old: removal due since 2026-12-05T01:00:00.000Z (the running service makes it) (for: of rule trial)\n');
    expect(out).toContain('  add mantago/personal tag tag-now: removal due since 2026-12-05T02:00:00.000Z (the running service makes it)\n');
  });
});
