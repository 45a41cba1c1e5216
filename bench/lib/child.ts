import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { ChildUsage, FromChild, ToChild } from './child-protocol';

/** The server entry points under bench/servers (compiled next to this file's folder). */
export type ServerName = 'service' | 'ack-path' | 'verify-only' | 'inline-forward' | 'bare-verify' | 'minimal-sqlite' | 'minimal-postgres' | 'tag-api';

export interface RunningChild {
  name: ServerName;
  pid: number;
  port: number;
  url: string;
  /** The child's memory and CPU time now (asked over IPC, answered by the child itself). */
  usage(opts?: { fullGc?: boolean }): Promise<ChildUsage>;
  /** Asks the server to stop gracefully and waits for the process to exit. */
  stop(): Promise<void>;
  /** The last lines of what the child wrote to stdout (the service's JSON logs), for error messages. */
  logTail(lines?: number): string;
}

/**
 * Starts `bench/servers/<name>.js` as a child process with `env` (nothing else
 * inherited but PATH). Its stdout (the service's log lines) goes to `logFile`;
 * stderr is passed through so crashes are visible.
 *
 * BENCH_CPU_PROF=DIR runs the child under `--cpu-prof` and writes the profile there
 * (that is how the service is profiled under a benchmark's load).
 */
/**
 * The V8 flags `npm start` runs the service with (read from package.json, so the
 * benchmarks measure the service as it is deployed). Baseline servers get them too,
 * so a comparison is never between two heap policies.
 */
function productionNodeFlags(): string[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { scripts: { start: string } };
  return pkg.scripts.start.split(/\s+/).filter((a) => a.startsWith('--max-old-space-size='));
}

export async function startChild(name: ServerName, env: Record<string, string>, logFile: string, opts: { exposeGc?: boolean } = {}): Promise<RunningChild> {
  const entry = path.join(__dirname, '..', 'servers', `${name}.js`);
  const profDir = process.env.BENCH_CPU_PROF;
  const out = fs.openSync(logFile, 'a');
  const proc: ChildProcess = fork(entry, [], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', out, 'inherit', 'ipc'],
    execArgv: [
      ...productionNodeFlags(),
      ...(profDir ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(profDir), '--cpu-prof-name', `${name}-${Date.now()}.cpuprofile`] : []),
      // Only makes a full GC callable on request; it does not change how V8 collects by itself.
      ...(opts.exposeGc ? ['--expose-gc'] : []),
    ],
  });
  fs.closeSync(out);
  const exited = new Promise<number | string>((resolve) => proc.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const tail = (lines = 5) => {
    try {
      return fs.readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  };

  const port = await new Promise<number>((resolve, reject) => {
    const onMessage = (m: FromChild) => {
      if (m.type === 'ready') {
        proc.off('message', onMessage);
        resolve(m.port);
      } else if (m.type === 'failed') {
        reject(new Error(`${name} server did not start: ${m.error}`));
      }
    };
    proc.on('message', onMessage);
    void exited.then((code) => reject(new Error(`${name} server exited (${code}) before it was ready; its last log lines:\n${tail()}`)));
  });

  let nextId = 1;
  const pending = new Map<number, (usage: ChildUsage) => void>();
  proc.on('message', (m: FromChild) => {
    if (m.type !== 'usage') return;
    pending.get(m.id)?.(m);
    pending.delete(m.id);
  });
  const send = (m: ToChild) => proc.send(m);

  return {
    name,
    pid: proc.pid ?? -1,
    port,
    url: `http://127.0.0.1:${port}`,
    usage: (o = {}) =>
      new Promise<ChildUsage>((resolve, reject) => {
        if (!proc.connected) {
          reject(new Error(`${name} server is gone`));
          return;
        }
        const id = nextId++;
        pending.set(id, resolve);
        send({ type: 'usage', id, ...(o.fullGc ? { fullGc: true } : {}) });
      }),
    async stop() {
      if (proc.connected) send({ type: 'stop' });
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      if (code !== 0) throw new Error(`${name} server exited with ${code} on stop; its last log lines:\n${tail()}`);
    },
    logTail: tail,
  };
}

/** Samples a child's memory every `everyMs` until stopped; keeps every sample and the peaks. */
export function sampleMemory(child: RunningChild, everyMs = 100): { stop(): Promise<{ peakRss: number; peakHeapUsed: number; samples: ChildUsage[] }> } {
  const samples: ChildUsage[] = [];
  let inFlight: Promise<void> | undefined;
  const take = () =>
    child
      .usage()
      .then((u) => void samples.push(u))
      .catch(() => undefined);
  const timer = setInterval(() => {
    if (inFlight) return;
    inFlight = take().finally(() => (inFlight = undefined));
  }, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
      await take();
      return {
        peakRss: Math.max(0, ...samples.map((s) => s.rss)),
        peakHeapUsed: Math.max(0, ...samples.map((s) => s.heapUsed)),
        samples,
      };
    },
  };
}
