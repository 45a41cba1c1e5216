import type { Command } from 'commander';
import type { QueueCounts, StoreStatus } from '../store/store';
import { NO_ACCOUNT } from '../no-account';
import { formatAge } from '../format-time';
import { pausedAccount, runningLifetimes } from './history-notes';
import { processIo, table, withStore, type CommandIo } from './io';

export async function runStatus(opts: { json?: boolean }, env: NodeJS.ProcessEnv, io: CommandIo, now = Date.now()): Promise<number> {
  return withStore('status', env, io, async (store) => {
    const status = await store.status(now);
    if (opts.json) io.stdout(`${JSON.stringify(status)}\n`);
    else io.stdout(renderStatus(status));
    return 0;
  });
}

export function renderStatus(s: StoreStatus): string {
  const counts = (q: QueueCounts) => [String(q.pending), String(q.due), String(q.leased), String(q.dead), formatAge(q.oldestPendingAgeMs)];
  const header = ['pending', 'due', 'leased', 'dead', 'oldest pending'];
  let out = table(['queue', ...header], [['tag operations', ...counts(s.operations)], ['forwards', ...counts(s.forwards)]]);
  // Broken down only where there is something to break down.
  if (s.channels.length > 0) out += `\n${table(['channel', ...header], s.channels.map((c) => [c.channel, ...counts(c.operations)]))}`;
  if (s.accounts.length > 0) {
    out += `\n${table(['account', ...header], s.accounts.map((a) => [a.account === NO_ACCOUNT ? `(none: ${a.provider})` : `${a.account} (${a.provider})`, ...counts(a.operations)]))}`;
  }
  const l = s.lifetimes;
  if (l.running > 0 && l.nextEndAt !== null) out += `\n${runningLifetimes(l.running, l.nextEndAt)}\n`;
  if (s.pauses.length > 0) out += `\n${s.pauses.map((p) => `${pausedAccount(p.account, p.until)}\n`).join('')}`;
  return out;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('pending, due, leased and dead operations and forwards, and the oldest pending age; tag operations by channel and by account; how many tags have a lifetime (for:) running and when the first ends; accounts paused by a Retry-After, and until when')
    .option('--json', 'print one JSON object')
    .action(async (opts: { json?: boolean }) => {
      process.exitCode = await runStatus(opts, process.env, processIo);
    });
}
