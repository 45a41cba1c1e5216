import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { createLogger } from '../../src/log';

/**
 * The service's logger writes its JSON lines straight to stdout (without winston's stream
 * plumbing): the lines must be what the formats make — levels honoured, secrets redacted,
 * child fields merged, an Error logged alone keeping its message — one line per entry, the
 * lines of one turn of the event loop in one write at the end of that turn.
 */
describe('logger on stdout', () => {
  let writes: string[];
  let spy: jest.SpyInstance | undefined;
  beforeEach(() => {
    writes = [];
    spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      writes.push(String(chunk));
      return true;
    });
  });
  afterEach(() => spy?.mockRestore());

  const turnEnds = () => new Promise<void>((resolve) => setImmediate(resolve));
  const lines = () => writes.join('').split('\n').slice(0, -1);
  const parsed = () => lines().map((l) => JSON.parse(l) as Record<string, unknown>);

  it('writes one JSON line per entry at or above the level, all of a turn in one write when it ends', async () => {
    const log = createLogger({ level: 'info', secrets: ['s3cr3t-value'] });
    log.debug('not shown');
    log.info('webhook accepted', { queued: 1, operations: ['add tag-1'], token: 'abc', note: 'has s3cr3t-value inside' });
    log.child({ requestId: 'r-1', channel: 'line' }).warn('webhook rejected', { bytes: 10 });
    expect(writes).toEqual([]);
    await turnEnds();
    expect(writes).toHaveLength(1);
    expect(writes[0]?.endsWith('\n')).toBe(true);
    const [accepted, rejected, ...rest] = parsed();
    expect(rest).toEqual([]);
    expect(accepted).toMatchObject({ level: 'info', message: 'webhook accepted', queued: 1, operations: ['add tag-1'], token: '[redacted]', note: 'has [redacted] inside' });
    expect(typeof accepted?.timestamp).toBe('string');
    expect(Object.keys(accepted ?? {})).toEqual(Object.keys(accepted ?? {}).sort());
    expect(rejected).toMatchObject({ level: 'warn', message: 'webhook rejected', requestId: 'r-1', channel: 'line', bytes: 10 });
  });

  it('keeps the message of an Error logged alone, and writes what JSON.stringify refuses', async () => {
    const log = createLogger({ level: 'info', secrets: ['s3cr3t-value'] });
    log.error(new Error('boom s3cr3t-value'));
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    log.info('odd values', { big: 10n, cyclic });
    await turnEnds();
    const [error, odd] = parsed();
    expect(error).toMatchObject({ level: 'error', message: 'boom [redacted]' });
    expect(odd).toMatchObject({ message: 'odd values', big: '10' });
  });

  it('honours a level changed later, and silence', async () => {
    const log = createLogger({ level: 'warn' });
    log.info('hidden');
    log.level = 'info';
    log.info('shown');
    log.silent = true;
    log.error('silenced');
    await turnEnds();
    expect(parsed().map((l) => l.message)).toEqual(['shown']);
  });

  it('writes the lines of each turn when that turn ends, in order', async () => {
    const log = createLogger({ level: 'info' });
    log.info('first turn a');
    log.info('first turn b');
    await turnEnds();
    log.info('second turn');
    await turnEnds();
    expect(writes).toHaveLength(2);
    expect(parsed().map((l) => l.message)).toEqual(['first turn a', 'first turn b', 'second turn']);
  });

  it('writes the lines still pending when the process exits in the same turn', () => {
    const logModule = path.join(__dirname, '..', '..', 'dist', 'log.js');
    const script = `const l = require(${JSON.stringify(logModule)}).createLogger({ level: 'info' }); l.info('one'); l.warn('two'); process.exit(3);`;
    let out = '';
    let status: number | null = null;
    try {
      execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    } catch (err) {
      ({ stdout: out, status } = err as { stdout: string; status: number | null });
    }
    expect(status).toBe(3);
    expect(out.split('\n').slice(0, -1).map((l) => (JSON.parse(l) as { message: string }).message)).toEqual(['one', 'two']);
  });
});
