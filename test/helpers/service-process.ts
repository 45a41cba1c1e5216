import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { lineBody, lineText } from './app-harness';
import { freePort } from './free-port';
import { signLine } from './signatures';
import { testClockEnv } from './test-clock';

const CLI = path.resolve(__dirname, '../../dist/cli.js');

export interface ServiceProcess {
  proc: ChildProcess;
  port: number;
  url: string;
  /** Every JSON log line so far. */
  logs: Record<string, unknown>[];
  stderr: string[];
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): void;
  /** Resolves when a log line matches (rejects after timeoutMs). */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/**
 * Runs `node dist/cli.js serve` (the built service, as `npm start` does) on a free
 * port and resolves once it logs that it is listening. `npm run build` must have run.
 * `command` runs something else that starts it (e.g. `npm start`).
 */
export async function startService(env: Record<string, string>, opts: StartOptions = {}): Promise<ServiceProcess> {
  // PORT must be 1–65535 (0 is refused): a free port, and another one when something took it meanwhile.
  for (let attempt = 1; ; attempt++) {
    const port = env.PORT ?? String(await freePort());
    try {
      return await startOnce({ ...env, PORT: port }, opts);
    } catch (err) {
      if (env.PORT === undefined && attempt < 3 && /cannot listen on port/.test(String(err))) continue;
      throw err;
    }
  }
}

interface StartOptions {
  timeoutMs?: number;
  command?: { file: string; args: string[] };
}

async function startOnce(env: Record<string, string>, opts: StartOptions): Promise<ServiceProcess> {
  const command = opts.command ?? { file: process.execPath, args: [CLI, 'serve'] };
  const proc = spawn(command.file, command.args, {
    cwd: path.resolve(__dirname, '../..'),
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...testClockEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  const listeners = new Set<(line: Record<string, unknown>) => void>();
  readline.createInterface({ input: proc.stdout! }).on('line', (l) => {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(l) as Record<string, unknown>;
    } catch {
      parsed = { message: l, unparsed: true };
    }
    logs.push(parsed);
    for (const f of [...listeners]) f(parsed);
  });
  readline.createInterface({ input: proc.stderr! }).on('line', (l) => stderr.push(l));
  const exited = new Promise<number | string>((resolve) => proc.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));

  const waitForLog = (match: (line: Record<string, unknown>) => boolean, timeoutMs = 15_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const hit = logs.find(match);
      if (hit) return resolve(hit);
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`service: no matching log line within ${timeoutMs} ms; stderr: ${stderr.join(' | ')}; last logs: ${logs.slice(-5).map((l) => JSON.stringify(l)).join(' | ')}`));
      }, timeoutMs);
      const check = (line: Record<string, unknown>) => {
        if (!match(line)) return;
        clearTimeout(timer);
        listeners.delete(check);
        resolve(line);
      };
      listeners.add(check);
      void exited.then((code) => {
        if (!listeners.has(check)) return;
        clearTimeout(timer);
        listeners.delete(check);
        reject(new Error(`service exited (${code}) before the expected log line; stderr: ${stderr.join(' | ')}`));
      });
    });

  let listening: Record<string, unknown>;
  try {
    listening = await waitForLog((l) => l.message === 'chat-autotag listening', opts.timeoutMs ?? 15_000);
  } catch (err) {
    // A start that failed or is too slow must not outlive the test: the caller has no handle to
    // kill it by, and a live child keeps jest from exiting after the run.
    proc.kill('SIGKILL');
    throw err;
  }
  const port = Number(listening.port);
  return {
    proc,
    port,
    url: `http://127.0.0.1:${port}`,
    logs,
    stderr,
    exited,
    kill: (signal: NodeJS.Signals = 'SIGTERM') => void proc.kill(signal),
    waitForLog,
  };
}

/** The environment that points the service at a fake MantaGo. */
export function mantagoEnv(fake: { baseUrl: string; botId: string; token: string; secret: string }): Record<string, string> {
  return { MANTAGO_BASE_URL: fake.baseUrl, MANTAGO_BOT_ID: fake.botId, MANTAGO_TOKEN: fake.token, MANTAGO_SECRET: fake.secret };
}

/** Short retries and leases, so crash and failover tests finish in seconds. */
export const FAST_DELIVERY_ENV: Readonly<Record<string, string>> = {
  PROVIDER_CONCURRENCY: '4',
  RETRY_MIN_MS: '50',
  RETRY_MAX_MS: '200',
  LEASE_MS: '3000',
  TAG_API_TIMEOUT_MS: '1000',
  FORWARD_TIMEOUT_MS: '1000',
};

/**
 * Posts a signed LINE text message to a running service (`extra`: fields of the event to
 * replace, e.g. its `timestamp`). Resolves with the HTTP status, or 'unreachable' when the
 * process died before answering (LINE would redeliver).
 */
export async function postLineText(
  url: string,
  secret: string,
  text: string,
  userId: string,
  extra: Record<string, unknown> = {},
): Promise<number | 'unreachable'> {
  const body = lineBody([lineText(text, userId, extra)]);
  try {
    const res = await fetch(`${url}/webhooks/line`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-line-signature': signLine(body, secret) }, body });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 'unreachable';
  }
}
