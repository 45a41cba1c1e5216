import fs from 'node:fs';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import Database from './driver';
import { StoreUnavailableError } from '../store';
import type { Row } from '../shared/rows';

export type SqlValue = string | number | bigint | Buffer | null | undefined | boolean;

/**
 * Errors that mean "the file cannot be written right now" (locked by another
 * process past busy_timeout, disk full, I/O error) rather than a bug: the HTTP layer
 * answers 503 for them so the platform retries the webhook later.
 */
const UNAVAILABLE_CODES = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY|PROTOCOL|NOLFS)/;

export function toSqliteStoreError(file: string, err: unknown): unknown {
  if (err instanceof StoreUnavailableError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && UNAVAILABLE_CODES.test(code)) {
    return new StoreUnavailableError(`SQLite store ${file} is unavailable: ${code}: ${(err as Error).message}`, err);
  }
  return err;
}

/** A `$n` statement as SQLite takes it: plain `?`s, and for each, which `$n` parameter goes there. */
export interface Positional {
  text: string;
  order: readonly number[];
  /** The highest `$n`: exactly this many parameters must be passed, as PostgreSQL requires. */
  count: number;
  sql: string;
}

/** Turns each `$n` into a plain `?` (a `$n` used twice is bound twice). */
export function toPositional(sql: string): Positional {
  const order: number[] = [];
  const text = sql.replace(/\$(\d+)/g, (_, n: string) => {
    order.push(Number(n) - 1);
    return '?';
  });
  return { text, order, count: order.reduce((max, i) => Math.max(max, i + 1), 0), sql };
}

/**
 * The values for the `?`s in order. A parameter list of another length than the statement's
 * highest `$n` is a bug (a missing `$n` would otherwise be bound as NULL without a word);
 * PostgreSQL refuses it too. `undefined` passed for a parameter is bound as NULL.
 */
export function bindPositional({ order, count, sql }: Positional, params: readonly SqlValue[]): unknown[] {
  if (params.length !== count) {
    throw new Error(`SQLite statement takes ${count} parameter(s) ($1…$${count}), ${params.length} given: ${sql.replace(/\s+/g, ' ').trim().slice(0, 120)}`);
  }
  const out = new Array<unknown>(order.length);
  for (let i = 0; i < order.length; i++) {
    const v = params[order[i] as number];
    out[i] = v === undefined ? null : typeof v === 'boolean' ? (v ? 1 : 0) : v;
  }
  return out;
}

/** A prepared statement with its positional form. */
interface Prepared extends Positional {
  stmt: BetterSqlite3.Statement;
}

/**
 * A better-sqlite3 connection that runs the shared `$n` statements: prepared once, each `$n`
 * turned into a plain `?` and the parameters bound by position (a `$n` used twice is bound
 * twice). Binding by position costs about half what binding numbered parameters from an
 * object did (0.7 µs a statement), paid by every statement of every accepted webhook.
 */
export class SqliteDb {
  private readonly statements = new Map<string, Prepared>();
  /** Inside `relaxed` (a nested call leaves the setting to the outer one). */
  private relaxedNow = false;

  private constructor(
    readonly raw: BetterSqlite3.Database,
    readonly file: string,
  ) {}

  /**
   * Opens (creating the folder and file if missing) with WAL and synchronous=FULL:
   * in WAL mode FULL syncs the log at every commit, so a commit that returned
   * survives a power loss, not only a process crash.
   */
  static open(file: string): SqliteDb {
    let raw: BetterSqlite3.Database | undefined;
    try {
      const dir = path.dirname(file);
      // mkdir's own word for it, "EEXIST: file already exists", reads as if the folder were fine.
      const stat = fs.statSync(dir, { throwIfNoEntry: false });
      if (stat?.isDirectory() === false) throw new Error(`${dir} is not a folder`);
      // A symbolic link to nothing: mkdir would say EEXIST as well.
      if (!stat && fs.lstatSync(dir, { throwIfNoEntry: false })?.isSymbolicLink()) {
        throw new Error(`${dir} is a symbolic link to ${path.resolve(path.dirname(dir), fs.readlinkSync(dir))}, which does not exist`);
      }
      fs.mkdirSync(dir, { recursive: true });
      raw = new Database(file);
      raw.pragma('journal_mode = WAL');
      raw.pragma('synchronous = FULL');
      // Another process (a CLI command beside `serve`) may hold the write lock briefly.
      raw.pragma('busy_timeout = 5000');
      raw.pragma('foreign_keys = ON');
      return new SqliteDb(raw, file);
    } catch (err) {
      raw?.close();
      throw new StoreUnavailableError(
        `cannot open the SQLite store at ${file}: ${err instanceof Error ? err.message : String(err)}`,
        err,
      );
    }
  }

  private prepare(sql: string): Prepared {
    let p = this.statements.get(sql);
    if (!p) {
      const positional = toPositional(sql);
      p = { ...positional, stmt: this.raw.prepare(positional.text) };
      this.statements.set(sql, p);
    }
    return p;
  }

  /** A query, or a statement with RETURNING. */
  all(sql: string, params: readonly SqlValue[] = []): Row[] {
    return this.guard(() => {
      const p = this.prepare(sql);
      return p.stmt.all(bindPositional(p, params)) as Row[];
    });
  }

  /** A statement without result rows; returns how many rows it changed. */
  run(sql: string, params: readonly SqlValue[] = []): number {
    return this.guard(() => {
      const p = this.prepare(sql);
      return p.stmt.run(bindPositional(p, params)).changes;
    });
  }

  /** BEGIN IMMEDIATE: take the write lock up front, so a transaction never fails half-way on a lock upgrade. */
  tx<T>(fn: () => T): T {
    return this.guard(() => this.raw.transaction(fn).immediate());
  }

  /**
   * Runs `fn` (statements or a transaction) with synchronous=NORMAL: its commits are
   * atomic and survive a process crash (WAL), but skip the fsync, so a power cut may undo
   * them until the next FULL commit or checkpoint syncs the log. Only for writes that need
   * no more than that. better-sqlite3 blocks the event loop for every fsync (1–3 ms), so
   * writes made per tag call must not pay one each.
   */
  relaxed<T>(fn: () => T): T {
    if (this.relaxedNow) return fn();
    // Not a prepared statement: SQLite applies this pragma when it compiles it, not when it runs.
    this.guard(() => this.raw.exec('PRAGMA synchronous = NORMAL'));
    this.relaxedNow = true;
    try {
      return fn();
    } finally {
      this.relaxedNow = false;
      this.guard(() => this.raw.exec('PRAGMA synchronous = FULL'));
    }
  }

  guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw toSqliteStoreError(this.file, err);
    }
  }

  close(): void {
    this.statements.clear();
    if (this.raw.open) this.raw.close();
  }
}
