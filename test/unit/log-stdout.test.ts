import { createLogger } from '../../src/log';

/**
 * The service's logger writes its JSON lines straight to stdout (without winston's stream
 * plumbing): the lines must be what the formats make — levels honoured, secrets redacted,
 * child fields merged, an Error logged alone keeping its message — one line per call.
 */
describe('logger on stdout', () => {
  let lines: string[];
  let spy: jest.SpyInstance | undefined;
  beforeEach(() => {
    lines = [];
    spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      lines.push(String(chunk));
      return true;
    });
  });
  afterEach(() => spy?.mockRestore());

  const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

  it('writes one JSON line per entry at or above the level, in the call that logs it', () => {
    const log = createLogger({ level: 'info', secrets: ['s3cr3t-value'] });
    log.debug('not shown');
    log.info('webhook accepted', { queued: 1, operations: ['add tag-1'], token: 'abc', note: 'has s3cr3t-value inside' });
    log.child({ requestId: 'r-1', channel: 'line' }).warn('webhook rejected', { bytes: 10 });
    expect(lines.every((l) => l.endsWith('\n') && l.indexOf('\n') === l.length - 1)).toBe(true);
    const [accepted, rejected, ...rest] = parsed();
    expect(rest).toEqual([]);
    expect(accepted).toMatchObject({ level: 'info', message: 'webhook accepted', queued: 1, operations: ['add tag-1'], token: '[redacted]', note: 'has [redacted] inside' });
    expect(typeof accepted?.timestamp).toBe('string');
    expect(Object.keys(accepted ?? {})).toEqual(Object.keys(accepted ?? {}).sort());
    expect(rejected).toMatchObject({ level: 'warn', message: 'webhook rejected', requestId: 'r-1', channel: 'line', bytes: 10 });
  });

  it('keeps the message of an Error logged alone, and writes what JSON.stringify refuses', () => {
    const log = createLogger({ level: 'info', secrets: ['s3cr3t-value'] });
    log.error(new Error('boom s3cr3t-value'));
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    log.info('odd values', { big: 10n, cyclic });
    const [error, odd] = parsed();
    expect(error).toMatchObject({ level: 'error', message: 'boom [redacted]' });
    expect(odd).toMatchObject({ message: 'odd values', big: '10' });
  });

  it('honours a level changed later, and silence', () => {
    const log = createLogger({ level: 'warn' });
    log.info('hidden');
    log.level = 'info';
    log.info('shown');
    log.silent = true;
    log.error('silenced');
    expect(parsed().map((l) => l.message)).toEqual(['shown']);
  });
});
