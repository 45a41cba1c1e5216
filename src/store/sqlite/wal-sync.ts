import fs from 'node:fs';
import { StoreUnavailableError } from '../store';

/** Flushes a file's data to disk (fdatasync); the default runs on libuv's thread pool. */
export type Fdatasync = (fd: number) => Promise<void>;

const fdatasyncAsync: Fdatasync = (fd) => new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));

/**
 * Makes commits durable off the event loop. A commit made with synchronous=NORMAL in
 * WAL mode has written its frames to the `-wal` file but not flushed them;
 * synchronous=FULL would flush them inside the commit, blocking the event loop
 * (better-sqlite3 is synchronous) for the whole fsync — 1–3 ms, more on a busy disk —
 * while no webhook can be read or verified. Here the flush is an fdatasync of the WAL
 * file on the thread pool, and the caller answers only once it is done: a commit that
 * was followed by a completed flush is on disk exactly as with FULL (SQLite's FULL is
 * this same sync of the WAL at commit; https://www.sqlite.org/pragma.html#pragma_synchronous).
 *
 * `sync()` resolves after a flush that STARTED after the call — one already running may
 * have missed the caller's frames — and callers that ask while one runs share the next one.
 */
export class WalSync {
  private fd: number | undefined;
  private running = false;
  private waiting: { resolve(): void; reject(err: unknown): void }[] = [];

  constructor(
    private readonly walFile: string,
    private readonly fdatasync: Fdatasync = fdatasyncAsync,
  ) {}

  sync(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      if (!this.running) this.flush();
    });
  }

  private flush(): void {
    const batch = this.waiting;
    this.waiting = [];
    this.running = true;
    let flushed: Promise<void>;
    try {
      // Opened once: SQLite keeps the same -wal file (and inode) while a connection is open; it resets it in place.
      this.fd ??= fs.openSync(this.walFile, 'r+');
      flushed = this.fdatasync(this.fd);
    } catch (err) {
      flushed = Promise.reject(err);
    }
    flushed.then(
      () => this.settle(batch, undefined),
      (err: unknown) => this.settle(batch, new StoreUnavailableError(`SQLite store: flushing ${this.walFile} to disk failed: ${err instanceof Error ? err.message : String(err)}`, err)),
    );
  }

  private settle(batch: WalSync['waiting'], err: StoreUnavailableError | undefined): void {
    this.running = false;
    if (this.waiting.length > 0) this.flush();
    for (const w of batch) {
      if (err) w.reject(err);
      else w.resolve();
    }
  }

  /** Waits for the flush under way, then lets go of the file. */
  async close(): Promise<void> {
    if (this.running || this.waiting.length > 0) await this.sync().catch(() => undefined);
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
