import type { Command } from 'commander';
import type { QueueCounts, StoreStatus } from '../store/store';
import { NO_ACCOUNT } from '../no-account';
import { formatAge } from '../format-time';
import { pausedAccount, runningLifetimes } from './history-notes';
import { callerLine, callerRolesShown, callersHeading } from './caller-notes';
import type { ProviderCallers } from '../config-types';
import { processIo, table, withStore, type CommandIo } from './io';

export async function runStatus(opts: { json?: boolean }, env: NodeJS.ProcessEnv, io: CommandIo, now = Date.now()): Promise<number> {
  return withStore('status', env, io, async (store, config) => {
    // Every account the configuration names is looked for (a lock shows only a hash of its name), those of the queue too.
    const status = await store.status(now, { callerAccounts: config.accounts.map((a) => a.name) });
    if (opts.json) io.stdout(`${JSON.stringify(status)}\n`);
    else io.stdout(renderStatus(status, config.providerCallers));
    return 0;
  });
}

/** `mode`: PROVIDER_CALLERS as this environment sets it (the service's, when run with its environment). */
export function renderStatus(s: StoreStatus, mode: ProviderCallers = 'one'): string {
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
  // PostgreSQL only: with SQLite one process makes every call, and there is nothing to say.
  const callers = callerRolesShown(s.callers, mode);
  if (callers.length > 0) out += `\n${callersHeading(mode)}:\n${callers.map((c) => `  ${callerLine(c)}\n`).join('')}`;
  return out;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('pending, due, leased and dead operations and forwards, and the oldest pending age; tag operations by channel and by account; how many tags have a lifetime (for:) running and when the first ends; accounts paused by a Retry-After, and until when; with PostgreSQL, which instance calls each provider account, and the accounts with pending operations that none calls')
    .option('--json', 'print one JSON object')
    .action(async (opts: { json?: boolean }) => {
      process.exitCode = await runStatus(opts, process.env, processIo);
    });
}
