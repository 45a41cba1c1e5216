import type { Command } from 'commander';
import { isoTime } from '../format-time';
import type { describeOperation } from '../providers/describe-operation';
import type { DeadLetter } from '../store/store';
import { processIo, table, withStore, type CommandIo } from './io';

export async function runDeadLettersList(opts: { json?: boolean }, env: NodeJS.ProcessEnv, io: CommandIo): Promise<number> {
  // Loaded on use: registering the command line must not load the provider descriptors (zod).
  const { describeOperation: describeOp } = await import('../providers/describe-operation');
  return withStore(env, io, async (store) => {
    const dead = await store.listDeadLetters();
    if (opts.json) {
      io.stdout(`${JSON.stringify(dead)}\n`);
      return 0;
    }
    if (dead.length === 0) {
      io.stdout('no dead letters\n');
      return 0;
    }
    io.stdout(table(['id', 'since', 'what', 'status', 'reason'], dead.map((d) => [d.id, isoTime(d.at), describe(d, describeOp), d.status === undefined ? '-' : String(d.status), d.reason])));
    return 0;
  });
}

export async function runDeadLettersRetry(ids: string[], opts: { all?: boolean }, env: NodeJS.ProcessEnv, io: CommandIo, now = Date.now()): Promise<number> {
  if (!opts.all && ids.length === 0) {
    io.stderr('dead-letters retry: give --all or one or more ids (see `autotag dead-letters list`)\n');
    return 1;
  }
  if (opts.all && ids.length > 0) {
    io.stderr('dead-letters retry: give either --all or ids, not both\n');
    return 1;
  }
  const malformed = ids.filter((id) => !/^(op|fwd)-\d+$/.test(id));
  if (malformed.length > 0) {
    io.stderr(`dead-letters retry: not a dead-letter id: ${malformed.join(', ')} (ids look like op-12 or fwd-3)\n`);
    return 1;
  }
  return withStore(env, io, async (store) => {
    if (opts.all) {
      const n = await store.retryDeadLetters('all', now);
      io.stdout(`queued ${n} dead letter${n === 1 ? '' : 's'} again\n`);
      return 0;
    }
    const known = new Set((await store.listDeadLetters(Number.MAX_SAFE_INTEGER)).map((d) => d.id));
    const unknown = ids.filter((id) => !known.has(id));
    const n = await store.retryDeadLetters(ids.filter((id) => known.has(id)), now);
    io.stdout(`queued ${n} dead letter${n === 1 ? '' : 's'} again\n`);
    if (unknown.length > 0) {
      io.stderr(`dead-letters retry: no dead letter with id ${unknown.join(', ')}\n`);
      return 1;
    }
    return 0;
  });
}

function describe(d: DeadLetter, describeOp: typeof describeOperation): string {
  if (d.operation) return `${describeOp(d.operation)} for ${d.operation.platform} user ${d.operation.userId}`;
  if (d.forward) return `forward to ${d.forward.destination} (received ${isoTime(d.forward.receivedAt)})`;
  return d.type;
}

export function registerDeadLetters(program: Command): void {
  const group = program.command('dead-letters').description('what will not be retried, and why; queue it again');
  group
    .command('list')
    .description('list dead letters with their reason')
    .option('--json', 'print one JSON array')
    .action(async (opts: { json?: boolean }) => {
      process.exitCode = await runDeadLettersList(opts, process.env, processIo);
    });
  group
    .command('retry')
    .description('queue dead letters again')
    .argument('[ids...]', 'dead-letter ids (op-N, fwd-N)')
    .option('--all', 'every dead letter')
    .action(async (ids: string[], opts: { all?: boolean }) => {
      process.exitCode = await runDeadLettersRetry(ids, opts, process.env, processIo);
    });
}
