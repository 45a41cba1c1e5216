/**
 * The messages between a benchmark (the parent, which generates load and plays the
 * outside world) and the server under test (a child process, so that the load
 * generator and the fakes never share its event loop or its heap).
 */
export interface ChildUsage {
  /** Resident set size, bytes. */
  rss: number;
  heapUsed: number;
  heapTotal: number;
  /** C++ objects bound to JS, and Buffers. */
  external: number;
  /** CPU time used so far (user + system), microseconds. */
  cpuMicros: number;
  /** A full GC ran just before (asked for, and the child runs with --expose-gc). */
  collected: boolean;
}

/** `fullGc`: run a full garbage collection first (the child must run with --expose-gc), so heapUsed is what is retained. */
export type ToChild = { type: 'usage'; id: number; fullGc?: boolean } | { type: 'stop' };

export type FromChild =
  | { type: 'ready'; port: number }
  | ({ type: 'usage'; id: number } & ChildUsage)
  | { type: 'stopped' }
  | { type: 'failed'; error: string };
