import type { FromChild, ToChild } from './child-protocol';

export interface ChildServer {
  port: number;
  stop(): Promise<void>;
}

/**
 * The child side: starts a server, tells the parent its port, answers questions
 * about its memory and CPU time, and stops (then exits) when asked. A start-up failure is reported
 * to the parent before the process exits 1.
 */
export function runChild(start: () => Promise<ChildServer>): void {
  const send = (m: FromChild) => process.send?.(m);
  if (!process.send) {
    console.error('this module is a benchmark child: start it with child_process.fork from a benchmark');
    process.exit(2);
  }
  start().then(
    (server) => {
      process.on('message', (m: ToChild) => {
        if (m.type === 'usage') {
          const gc = (globalThis as { gc?: () => void }).gc;
          const collected = m.fullGc === true && gc !== undefined;
          if (collected) gc();
          const mem = process.memoryUsage();
          const cpu = process.cpuUsage();
          send({ type: 'usage', id: m.id, rss: mem.rss, heapUsed: mem.heapUsed, heapTotal: mem.heapTotal, external: mem.external, cpuMicros: cpu.user + cpu.system, collected });
        }
        if (m.type === 'stop') {
          void server.stop().then(
            () => {
              send({ type: 'stopped' });
              process.disconnect();
              // A handle left open must not hang the benchmark; the shutdown tests own that question.
              setTimeout(() => process.exit(0), 2000).unref();
            },
            (err: unknown) => {
              console.error('stopping failed:', err);
              process.exit(1);
            },
          );
        }
      });
      // A benchmark that died must not leave its server running.
      process.on('disconnect', () => void server.stop().finally(() => process.exit(0)));
      send({ type: 'ready', port: server.port });
    },
    (err: unknown) => {
      send({ type: 'failed', error: err instanceof Error ? `${err.message}${'details' in err ? `\n${String((err as { details: unknown }).details)}` : ''}` : String(err) });
      process.exit(1);
    },
  );
}
