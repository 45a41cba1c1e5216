import type { Command } from 'commander';
import type { StoreStatus } from '../store/store';
import { formatAge } from '../format-time';
import { processIo, table, withStore, type CommandIo } from './io';

export async function runStatus(opts: { json?: boolean }, env: NodeJS.ProcessEnv, io: CommandIo, now = Date.now()): Promise<number> {
  return withStore(env, io, async (store) => {
    const status = await store.status(now);
    if (opts.json) io.stdout(`${JSON.stringify(status)}\n`);
    else io.stdout(renderStatus(status));
    return 0;
  });
}

export function renderStatus(s: StoreStatus): string {
  const row = (name: string, q: StoreStatus['operations']) => [name, String(q.pending), String(q.due), String(q.leased), String(q.dead), formatAge(q.oldestPendingAgeMs)];
  return table(['queue', 'pending', 'due', 'leased', 'dead', 'oldest pending'], [row('tag operations', s.operations), row('forwards', s.forwards)]);
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('pending, due, leased and dead operations and forwards, and the oldest pending age')
    .option('--json', 'print one JSON object')
    .action(async (opts: { json?: boolean }) => {
      process.exitCode = await runStatus(opts, process.env, processIo);
    });
}
