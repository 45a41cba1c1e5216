import { backoffDelay, gaveUpEarlyNote, nextAttemptDelay, retryDueAt } from '../../../src/delivery/backoff';
import { decideAfterFailure } from '../../../src/delivery/operation-outcome';

const policy = { minMs: 1000, maxMs: 3_600_000, giveUpMs: 86_400_000, notFoundTimes: 10 };
const fresh = { attempts: 0, notFoundCount: 0, requestedAt: 0 };
const retryable = { retryable: true, notFound: false, reason: '503 from mantago' };

describe('backoff', () => {
  it('starts near RETRY_MIN_MS, doubles, and stops at RETRY_MAX_MS', () => {
    const top = () => 1;
    const bottom = () => 0;
    expect(backoffDelay(0, { minMs: 1000, maxMs: 3_600_000, random: top })).toBe(1000);
    expect(backoffDelay(3, { minMs: 1000, maxMs: 3_600_000, random: top })).toBe(8000);
    expect(backoffDelay(3, { minMs: 1000, maxMs: 3_600_000, random: bottom })).toBe(4000);
    expect(backoffDelay(30, { minMs: 1000, maxMs: 3_600_000, random: top })).toBe(3_600_000);
    expect(backoffDelay(1000, { minMs: 1000, maxMs: 3_600_000, random: top })).toBe(3_600_000);
  });

  it('spreads the defaults over about a day before giving up', () => {
    let total = 0;
    let attempts = 0;
    while (total < 86_400_000) total += backoffDelay(attempts++, { minMs: 1000, maxMs: 3_600_000, random: () => 0.5 });
    expect(attempts).toBeGreaterThan(20);
    expect(attempts).toBeLessThan(45);
  });

  it('jitters so that failures at the same moment do not retry together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(5, { minMs: 1000, maxMs: 3_600_000 })));
    expect(delays.size).toBeGreaterThan(10);
  });

  it('never retries before Retry-After, up to maxMs (CONTRACT.md: a pause lasts at most RETRY_MAX_MS)', () => {
    expect(nextAttemptDelay(0, { minMs: 1000, maxMs: 10_000, random: () => 0 }, 7000)).toBe(7000);
    expect(nextAttemptDelay(0, { minMs: 1000, maxMs: 10_000, random: () => 0 }, 10)).toBe(1000);
    expect(nextAttemptDelay(0, { minMs: 1000, maxMs: 10_000, random: () => 0 }, 120_000)).toBe(10_000);
    expect(nextAttemptDelay(3, { minMs: 1000, maxMs: 10_000, random: () => 0 }, 3_000_000_000_000)).toBe(10_000);
  });
});

describe('retryDueAt', () => {
  const minute = { startedAt: 0, giveUpMs: 60_000 };
  it('is the delay, not past the end of the window, and never sooner than minMs (else give up: undefined)', () => {
    expect(retryDueAt(0, 4000, minute, 1000)).toBe(4000);
    expect(retryDueAt(58_000, 4000, minute, 1000)).toBe(60_000);
    expect(retryDueAt(59_000, 4000, minute, 1000)).toBe(60_000);
    expect(retryDueAt(59_001, 4000, minute, 1000)).toBeUndefined();
    expect(retryDueAt(60_000, 4000, minute, 1000)).toBeUndefined();
    expect(retryDueAt(61_000, 4000, minute, 1000)).toBeUndefined();
  });

  it('waits at most a quarter of the window for a last attempt: a RETRY_MIN_MS as long as a forward\'s window still leaves it a retry', () => {
    // RETRY_MIN_MS=60000 beside FORWARD_GIVE_UP_MS=60000: a forward failing at 150 ms is tried again at the end of its window.
    expect(retryDueAt(150, 60_000, minute, 60_000)).toBe(60_000);
    // A forward that timed out at 10 s, likewise.
    expect(retryDueAt(10_000, 60_000, minute, 60_000)).toBe(60_000);
    // With less than the quarter (15 s) left, it gives up.
    expect(retryDueAt(45_001, 60_000, minute, 60_000)).toBeUndefined();
  });

  it('says why when it gave up before the window ended', () => {
    expect(gaveUpEarlyNote(59_500, minute, 1000)).toBe(': 500 ms were left, less than the 1000 ms a last attempt waits (RETRY_MIN_MS, at most a quarter of the window)');
    expect(gaveUpEarlyNote(60_000, minute, 1000)).toBe('');
  });
});

describe('decideAfterFailure', () => {
  it('retries network errors, timeouts, 429 and 5xx with backoff', () => {
    const d = decideAfterFailure(fresh, retryable, policy, 5000, () => 1);
    expect(d).toEqual({ kind: 'retry', dueAt: 6000 });
  });

  it('dead-letters what cannot be helped by retrying, with the reason', () => {
    const d = decideAfterFailure(fresh, { retryable: false, notFound: false, reason: '400 from mantago: bad tag' }, policy, 5000);
    expect(d).toEqual({ kind: 'dead', reason: '400 from mantago: bad tag' });
  });

  it('retries a MantaGo 404 RETRY_404_TIMES times, then gives up', () => {
    const notFound = { retryable: true, notFound: true, reason: '404 from mantago' };
    expect(decideAfterFailure({ ...fresh, notFoundCount: 9 }, notFound, policy, 1000).kind).toBe('retry');
    const d = decideAfterFailure({ ...fresh, notFoundCount: 10 }, notFound, policy, 1000);
    expect(d.kind).toBe('dead');
    expect(d.kind === 'dead' && d.reason).toMatch(/404 from mantago .*10 retries \(RETRY_404_TIMES\)/);
    expect(decideAfterFailure(fresh, notFound, { ...policy, notFoundTimes: 0 }, 1000).kind).toBe('dead');
  });

  it('gives up RETRY_GIVE_UP_MS after the operation was asked for', () => {
    const d = decideAfterFailure({ ...fresh, requestedAt: 0, attempts: 25 }, retryable, policy, 86_400_000);
    expect(d.kind).toBe('dead');
    expect(d.kind === 'dead' && d.reason).toMatch(/gave up after 24\.0 h/);
  });

  it('schedules the last attempt at the give-up moment, not beyond', () => {
    const d = decideAfterFailure({ ...fresh, attempts: 30 }, retryable, policy, 86_000_000, () => 1);
    expect(d).toEqual({ kind: 'retry', dueAt: 86_400_000 });
  });

  it('gives up rather than make a last attempt sooner than RETRY_MIN_MS after this one', () => {
    // 999 ms left of the day: a retry at the give-up moment would come 999 ms after this call.
    const d = decideAfterFailure({ ...fresh, attempts: 30 }, retryable, policy, 86_399_001, () => 1);
    expect(d.kind).toBe('dead');
    expect(d.kind === 'dead' && d.reason).toBe('503 from mantago — gave up after 24.0 h (RETRY_GIVE_UP_MS: 999 ms were left, less than the 1000 ms a last attempt waits (RETRY_MIN_MS, at most a quarter of the window))');
    // Exactly RETRY_MIN_MS left: the last attempt is made, at the give-up moment.
    expect(decideAfterFailure({ ...fresh, attempts: 30 }, retryable, policy, 86_399_000, () => 1)).toEqual({ kind: 'retry', dueAt: 86_400_000 });
  });

  it('honours Retry-After', () => {
    const d = decideAfterFailure(fresh, { ...retryable, retryAfterMs: 30_000 }, policy, 1000, () => 0);
    expect(d).toEqual({ kind: 'retry', dueAt: 31_000 });
  });

  it('caps a huge Retry-After at RETRY_MAX_MS', () => {
    const d = decideAfterFailure(fresh, { ...retryable, retryAfterMs: 3_000_000_000_000 }, policy, 1000, () => 0);
    expect(d).toEqual({ kind: 'retry', dueAt: 1000 + policy.maxMs });
  });
});
