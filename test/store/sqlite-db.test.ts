import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteDb } from '../../src/store/sqlite/db';

/**
 * How SqliteDb runs the shared `$n` statements on SQLite: each `$n` bound by position, a `$n`
 * used twice bound twice, `undefined` and booleans as SQLite takes them, and a parameter list
 * whose length is not the statement's highest `$n` refused (PostgreSQL refuses it too; bound
 * as it came, a missing `$n` would have been NULL without a word).
 */
describe('SqliteDb parameters', () => {
  let dir: string;
  let db: SqliteDb;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autotag-sqlite-db-'));
    db = SqliteDb.open(path.join(dir, 'autotag.db'));
    db.run('CREATE TABLE t (a TEXT, b TEXT, c INTEGER)');
  });
  afterEach(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('binds $n by number, wherever and however often it appears', () => {
    expect(db.run('INSERT INTO t (a, b, c) VALUES ($2, $1, $3)', ['first', 'second', 3])).toBe(1);
    expect(db.all('SELECT a, b, c FROM t WHERE a = $1 OR b = $1', ['second'])).toEqual([{ a: 'second', b: 'first', c: 3 }]);
  });

  it('binds undefined as NULL and booleans as 1 and 0', () => {
    db.run('INSERT INTO t (a, b, c) VALUES ($1, $2, $3)', ['x', undefined, true]);
    db.run('INSERT INTO t (a, b, c) VALUES ($1, $2, $3)', ['y', null, false]);
    expect(db.all('SELECT a, b, c FROM t ORDER BY a')).toEqual([
      { a: 'x', b: null, c: 1 },
      { a: 'y', b: null, c: 0 },
    ]);
  });

  it('refuses fewer or more parameters than the highest $n, naming the statement, and writes nothing', () => {
    expect(() => db.run('INSERT INTO t (a, b, c) VALUES ($1, $2, $3)', ['only', 'two'])).toThrow(
      'SQLite statement takes 3 parameter(s) ($1…$3), 2 given: INSERT INTO t (a, b, c) VALUES ($1, $2, $3)',
    );
    expect(() => db.all('SELECT a FROM t WHERE a = $1', ['one', 'extra'])).toThrow('SQLite statement takes 1 parameter(s) ($1…$1), 2 given');
    expect(() => db.all('SELECT a FROM t')).not.toThrow();
    expect(db.all('SELECT COUNT(*) AS n FROM t')).toEqual([{ n: 0 }]);
  });
});
