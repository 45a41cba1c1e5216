import { Worker } from 'node:worker_threads';
import { StoreUnavailableError } from '../store';
import type { Row } from '../shared/rows';
import { bindPositional, toPositional, toSqliteStoreError, type Positional, type SqlValue } from './db';
import { DRIVER_PACKAGE } from './driver';

/** One statement for the reader: `$n` parameters as everywhere in the store. */
export interface ReadQuery {
  sql: string;
  params: readonly SqlValue[];
}

/**
 * The reading thread. Plain JavaScript run from a string, so it needs no build step and runs the
 * same under ts-jest and from `dist`. It gets each statement as SQLite takes it, its `$n`s
 * turned into `?`s and its values bound by the same code as the service's connection
 * (db.ts: toPositional, bindPositional). Each request's statements run in one read transaction (one
 * snapshot of the file), on a read-only connection of its own: in WAL mode it never waits for the
 * service's writes, nor they for it.
 */
const READER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
let db;
const prepared = new Map();
function open() {
  try {
    const d = new Database(workerData.file, { readonly: true, fileMustExist: true });
    d.pragma('busy_timeout = 5000');
    return d;
  } catch (err) {
    // better-sqlite3 throws a TypeError without a code when the folder is missing: it cannot be opened all the same.
    const e = err instanceof Error ? err : new Error(String(err));
    if (!e.code) e.code = 'SQLITE_CANTOPEN';
    throw e;
  }
}
parentPort.on('message', ({ id, queries }) => {
  try {
    db ??= open();
    const rows = db.transaction(() => queries.map(({ text, values }) => {
      let stmt = prepared.get(text);
      if (!stmt) prepared.set(text, (stmt = db.prepare(text)));
      return stmt.all(values);
    }))();
    parentPort.postMessage({ id, rows });
  } catch (err) {
    parentPort.postMessage({ id, error: { message: err && err.message || String(err), code: err && err.code } });
  }
});
`;

interface Waiting {
  resolve(rows: Row[][]): void;
  reject(err: unknown): void;
}

/**
 * Reads of the SQLite file on a thread of its own, for the statements whose cost grows with the
 * queue: the queue counts behind `/metrics`, `/admin` and `autotag status` read every pending row,
 * and with the tag API down for an hour that is hundreds of thousands (0.3–0.6 s at 200,000, at
 * every scrape, which on the event loop would be in front of every webhook). better-sqlite3 is synchronous, so
 * on the service's own connection no webhook could be read meanwhile.
 *
 * The thread starts with the first read and holds the event loop open only while a read is
 * under way (a CLI command ends when its work does). If it dies, the reads in flight fail as
 * "store unavailable" and the next read starts a new one. It opens the file by its name at its
 * first read: a file deleted or replaced under a running service is not the one the service
 * writes (the counts then fail, or come from the new file). Parameters and results cross
 * between threads by structured clone: numbers, text and NULL, as the counts need (a Buffer
 * would arrive as a Uint8Array).
 */
export class SqliteReader {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 0;
  private closed = false;
  private readonly positional = new Map<string, Positional>();

  constructor(private readonly file: string) {}

  /** Runs `queries` in one read transaction; their rows, in order. */
  read(queries: readonly ReadQuery[]): Promise<Row[][]> {
    if (this.closed) return Promise.reject(new StoreUnavailableError(`SQLite store ${this.file} is closed`));
    let bound: { text: string; values: unknown[] }[];
    try {
      bound = queries.map((q) => {
        let p = this.positional.get(q.sql);
        if (!p) this.positional.set(q.sql, (p = toPositional(q.sql)));
        return { text: p.text, values: bindPositional(p, q.params) };
      });
    } catch (err) {
      return Promise.reject(err);
    }
    const worker = this.start();
    const id = ++this.nextId;
    return new Promise<Row[][]>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, queries: bound });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
    this.failAll(new StoreUnavailableError(`SQLite store ${this.file} was closed during a read`));
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(READER_SOURCE, { eval: true, workerData: { file: this.file, driver: require.resolve(DRIVER_PACKAGE) } });
    worker.unref();
    worker.on('message', (m: { id: number; rows?: Row[][]; error?: { message: string; code?: string } }) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (this.waiting.size === 0) worker.unref();
      if (m.error) w.reject(toSqliteStoreError(this.file, Object.assign(new Error(m.error.message), { code: m.error.code })));
      else w.resolve(m.rows ?? []);
    });
    const gone = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.failAll(new StoreUnavailableError(`SQLite store ${this.file}: the reading thread ${why}`));
    };
    worker.on('error', (err) => gone(`failed: ${err.message}`));
    worker.on('exit', (code) => gone(`exited with code ${code}`));
    this.worker = worker;
    return worker;
  }

  private failAll(err: StoreUnavailableError): void {
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of waiting) w.reject(err);
  }
}
