import vm from 'node:vm';
import { isUnavailable, toStoreError } from '../../../src/store/postgres/db';
import { StoreUnavailableError } from '../../../src/store/store';

/**
 * Which PostgreSQL failures mean "the database cannot serve us now" (503, retried) rather
 * than a bug (500). A socket's error is made by Node itself: in another realm (a VM context,
 * as under jest) it is no instance of this realm's Error, and /admin/status.json answered
 * 500 for a read that met `read ECONNRESET` while a write probe ran beside it.
 */
describe('PostgreSQL errors that mean the store is unavailable', () => {
  const foreign = (message: string, code?: string): unknown => vm.runInNewContext('Object.assign(new Error(message), code === undefined ? {} : { code })', { message, code });

  it('reads a network error by its code, whatever realm made it', () => {
    const reset = foreign('read ECONNRESET', 'ECONNRESET');
    expect(reset instanceof Error).toBe(false);
    expect(isUnavailable(reset)).toBe(true);
    const mapped = toStoreError(reset);
    expect(mapped).toBeInstanceOf(StoreUnavailableError);
    expect((mapped as Error).message).toBe('PostgreSQL is unavailable: ECONNRESET: read ECONNRESET');
  });

  it('reads SQLSTATEs, driver messages and aggregate errors alike', () => {
    expect(isUnavailable(Object.assign(new Error('cannot execute INSERT in a read-only transaction'), { code: '25006' }))).toBe(true);
    expect(isUnavailable(foreign('Connection terminated unexpectedly'))).toBe(true);
    expect(isUnavailable(new AggregateError([new Error('x'), Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })], ''))).toBe(true);
    expect(toStoreError(new AggregateError([Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })], ''))).toBeInstanceOf(StoreUnavailableError);
  });

  it('leaves a bug a bug: a syntax error, a constraint, a plain Error, a string', () => {
    for (const err of [Object.assign(new Error('syntax error'), { code: '42601' }), Object.assign(new Error('duplicate key'), { code: '23505' }), new Error('boom'), foreign('boom'), 'ECONNRESET', null, undefined, new AggregateError([new Error('a')], '')]) {
      expect(isUnavailable(err)).toBe(false);
      expect(toStoreError(err)).toBe(err);
    }
  });
});
