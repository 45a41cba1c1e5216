import { checkServerVersion } from '../../../src/store/postgres/server-version';

/**
 * README "Supported PostgreSQL versions": a server older than 12 is refused when the store is
 * opened (its migration), naming the version found and what to do, where it once started well
 * and failed every caller-role statement later. Only PostgreSQL 15 runs here, so the decision is
 * tested on the values an older server gives (`server_version_num`, `server_version`); the
 * store's migration reads them from the real server in every PostgreSQL test.
 */
describe('the PostgreSQL server version', () => {
  it.each([
    [110022, '11.22'],
    [100023, '10.23'],
    [90624, '9.6.24'],
  ])('refuses %i (PostgreSQL %s), naming it, the version needed and DATABASE_URL', (num, version) => {
    expect(() => checkServerVersion(num, version, 'the server at DATABASE_URL')).toThrow(
      `the server at DATABASE_URL is PostgreSQL ${version}; chat-autotag needs PostgreSQL 12 or later (README, "Supported PostgreSQL versions"): point DATABASE_URL at a newer server, or leave it unset for the embedded SQLite store`,
    );
  });

  it.each([
    [120000, '12.0'],
    [150010, '15.10'],
    [170002, '17.2'],
    [180000, '18devel'],
  ])('takes %i (PostgreSQL %s)', (num, version) => {
    expect(() => checkServerVersion(num, version, 'the server at DATABASE_URL')).not.toThrow();
  });

  it('takes a server that does not say (a value that is no number): the statements say more later', () => {
    expect(() => checkServerVersion(Number('unknown'), 'unknown', 'the server at DATABASE_URL')).not.toThrow();
  });
});
