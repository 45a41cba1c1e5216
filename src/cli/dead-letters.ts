import type { Command } from 'commander';
import { destinationLabel } from '../destination-label';
import { isoTime } from '../format-time';
import type { describeOperation } from '../providers/describe-operation';
import type { Config } from '../config';
import { NO_ACCOUNT } from '../no-account';
import type { DeadLetter, Store } from '../store/store';
import { DEAD_LETTER_ID } from '../store/shared/dead-letter-ids';
import { columnWidths, positiveCount, processIo, tableHead, tableLine, withStore, type CommandIo } from './io';

/** Dead letters read from the store at a time: the list streams, so memory stays bounded however many there are. */
export const DEAD_LETTERS_PAGE = 250;

const HEADER = ['id', 'since', 'what', 'status', 'reason'];

/**
 * Every dead letter, newest first (or the newest `--limit`), page by page as the store
 * gives them. Text: a table; `--json`: one JSON array, as one line. When `--limit` left some
 * out, a last text line (stderr with `--json`, so stdout stays one JSON value) says how many
 * there are in all.
 */
export async function runDeadLettersList(opts: { json?: boolean; limit?: string }, env: NodeJS.ProcessEnv, io: CommandIo): Promise<number> {
  const limit = opts.limit === undefined ? undefined : positiveCount(opts.limit);
  if (opts.limit !== undefined && limit === undefined) {
    io.stderr(`autotag dead-letters list: --limit must be a whole number ≥ 1, got ${JSON.stringify(opts.limit)}\n`);
    return 1;
  }
  // Loaded on use: registering the command line must not load the provider descriptors (zod).
  const { describeOperation: describeOp } = await import('../providers/describe-operation');
  return withStore('dead-letters list', env, io, async (store) => {
    let shown = 0;
    let last: DeadLetter | undefined;
    let widths: number[] | undefined;
    for await (const page of deadLetterPages(store, limit)) {
      if (opts.json) {
        io.stdout(page.map((d, i) => `${shown === 0 && i === 0 ? '[' : ','}${JSON.stringify(d)}`).join(''));
      } else {
        const rows = page.map((d) => [d.id, isoTime(d.at), describe(d, describeOp), d.status === undefined ? '-' : String(d.status), d.reason]);
        // The first page sets the columns; later pages keep them (a wider cell pushes its line right).
        if (!widths) {
          widths = columnWidths(HEADER, rows);
          io.stdout(tableHead(widths, HEADER));
        }
        const at = widths;
        io.stdout(rows.map((r) => `${tableLine(at, r)}\n`).join(''));
      }
      shown += page.length;
      last = page[page.length - 1];
      await io.drained?.();
    }
    if (opts.json) io.stdout(shown === 0 ? '[]\n' : ']\n');
    else if (shown === 0) io.stdout('no dead letters\n');
    if (limit !== undefined && shown === limit && last && (await store.listDeadLetters(1, last)).length > 0) {
      const status = await store.status(Date.now());
      const total = Math.max(status.operations.dead + status.forwards.dead, shown + 1);
      const note = `(showing the newest ${shown} of ${total} dead letters; leave out --limit to list them all)\n`;
      if (opts.json) io.stderr(note);
      else io.stdout(note);
    }
    return 0;
  });
}

/** The dead letters, newest first, a page at a time; at most `limit` in all when given. */
async function* deadLetterPages(store: Store, limit: number | undefined): AsyncGenerator<DeadLetter[]> {
  let left = limit ?? Number.POSITIVE_INFINITY;
  let after: DeadLetter | undefined;
  while (left > 0) {
    const size = Math.min(DEAD_LETTERS_PAGE, left);
    const page = await store.listDeadLetters(size, after);
    if (page.length > 0) yield page;
    if (page.length < size) return;
    left -= page.length;
    after = page[page.length - 1];
  }
}

/**
 * `--all` or ids, not both, each read as the store reads ids — before anything is done: a later
 * id the store refused would leave earlier ones done unsaid. False (said on stderr) when not.
 */
function idsGiven(command: 'retry' | 'discard', ids: string[], opts: { all?: boolean }, io: CommandIo): boolean {
  const refuse = (why: string) => {
    io.stderr(`autotag dead-letters ${command}: ${why}\n`);
    return false;
  };
  if (!opts.all && ids.length === 0) return refuse('give --all or one or more ids (see `autotag dead-letters list`)');
  if (opts.all && ids.length > 0) return refuse('give either --all or ids, not both');
  const malformed = ids.filter((id) => !DEAD_LETTER_ID.test(id.trim()));
  if (malformed.length > 0) {
    return refuse(`not a dead-letter id: ${malformed.map((id) => JSON.stringify(id)).join(', ')} (ids look like op-12 or fwd-3, as \`dead-letters list\` shows them)`);
  }
  return true;
}

export async function runDeadLettersRetry(ids: string[], opts: { all?: boolean }, env: NodeJS.ProcessEnv, io: CommandIo, now = Date.now()): Promise<number> {
  if (!idsGiven('retry', ids, opts, io)) return 1;
  return withStore('dead-letters retry', env, io, async (store, config) => {
    if (opts.all) {
      // Whose they are, read before: the service may take them up (and keep them again) at once.
      const before = await store.status(now);
      const forwardsBefore = await store.deadForwardDestinations('all');
      const n = await store.retryDeadLetters('all', now);
      io.stdout(`queued ${n} dead letter${n === 1 ? '' : 's'} again\n`);
      const dead = before.accounts.map(({ account, operations }) => ({ account, dead: operations.dead }));
      for (const note of [...notTakenNotes(dead, config), ...unsentForwardNotes(forwardsBefore, config)]) io.stderr(`autotag dead-letters retry: warning: ${note}\n`);
      return 0;
    }
    // One id at a time: an id that queued nothing is not (or no longer) a dead letter, and no list of them all is read.
    const queued: string[] = [];
    const unknown: string[] = [];
    const given = [...new Set(ids.map((i) => i.trim()))];
    const accountOf = await store.deadOperationAccounts(given);
    const forwardsTo = await store.deadForwardDestinations(given);
    for (const id of given) {
      if ((await store.retryDeadLetters([id], now)) === 0) unknown.push(id);
      else queued.push(id);
    }
    const dead = new Map<string, number>();
    for (const id of queued) {
      const account = accountOf.get(id);
      if (account !== undefined) dead.set(account, (dead.get(account) ?? 0) + 1);
    }
    const notes = [...notTakenNotes([...dead].map(([account, n]) => ({ account, dead: n })), config), ...unsentForwardNotes(forwardsTo, config)];
    const n = queued.length;
    if (unknown.length > 0) {
      // A failure leaves stdout empty (README, Operations); the ids that were queued are said with the error.
      const done = n > 0 ? `queued ${n} again (${queued.join(', ')}); ` : '';
      io.stderr(`autotag dead-letters retry: ${done}no dead letter with id ${unknown.join(', ')}\n`);
      for (const note of notes) io.stderr(`autotag dead-letters retry: warning: ${note}\n`);
      return 1;
    }
    io.stdout(`queued ${n} dead letter${n === 1 ? '' : 's'} again\n`);
    for (const note of notes) io.stderr(`autotag dead-letters retry: warning: ${note}\n`);
    return 0;
  });
}

/**
 * Removes dead letters for good: an operator's decision (the contract's "never silently dropped"
 * is about the service; this is said, and asked for by id or `--all`). A forward's stored body
 * goes with it; a tag operation's desired state is forgotten (the next event for that tag and
 * person starts it anew). Ids that are not dead letters (any more) are an error, after the others
 * are removed, as `retry` does.
 */
export async function runDeadLettersDiscard(ids: string[], opts: { all?: boolean }, env: NodeJS.ProcessEnv, io: CommandIo): Promise<number> {
  if (!idsGiven('discard', ids, opts, io)) return 1;
  return withStore('dead-letters discard', env, io, async (store) => {
    if (opts.all) {
      const n = await store.discardDeadLetters('all');
      io.stdout(`discarded ${n} dead letter${n === 1 ? '' : 's'}\n`);
      return 0;
    }
    const discarded: string[] = [];
    const unknown: string[] = [];
    for (const id of [...new Set(ids.map((i) => i.trim()))]) {
      if ((await store.discardDeadLetters([id])) === 0) unknown.push(id);
      else discarded.push(id);
    }
    const n = discarded.length;
    if (unknown.length > 0) {
      const done = n > 0 ? `discarded ${n} (${discarded.join(', ')}); ` : '';
      io.stderr(`autotag dead-letters discard: ${done}no dead letter with id ${unknown.join(', ')}\n`);
      return 1;
    }
    io.stdout(`discarded ${n} dead letter${n === 1 ? '' : 's'}\n`);
    return 0;
  });
}

/**
 * The dead tag operations of accounts this environment cannot call (no token, or no such account):
 * queued again, the service keeps them as dead letters again at once. Not said when a broken
 * channels file was left out (its accounts would all look unknown).
 */
function notTakenNotes(queued: readonly { account: string; dead: number }[], config: Config): string[] {
  if (config.channelsFileLeftOut) return [];
  const notes: string[] = [];
  for (const { account, dead } of queued) {
    if (dead === 0) continue;
    const them = `${dead} of them ${dead === 1 ? 'is' : 'are'}`;
    const configured = config.accounts.find((a) => a.name === account);
    // Those kept for want of an account are given one by the service itself, at a start where one takes their channel.
    if (account === NO_ACCOUNT) continue;
    if (!configured) notes.push(`${them} for account ${account}, which neither the environment nor the channels file declares: they will be dead letters again`);
    else if (!configured.configured) {
      const variable = configured.source === 'file' ? config.channelsFile?.accounts.find((a) => a.name === account)?.account.variables.token : configured.provider.tokenVariable;
      notes.push(`${them} for account ${account}, whose token${variable ? ` (${variable})` : ''} is not set: they will be dead letters again until it is`);
    }
  }
  return notes;
}

/**
 * Dead forwards (counted by destination) whose destination this environment no longer
 * forwards to: queued again, no loop sends them, and the service keeps them as dead letters
 * again when it next starts (delivery/worker.ts). Not said when a broken channels file was
 * left out (its forward URLs would all look removed).
 */
function unsentForwardNotes(byDestination: ReadonlyMap<string, number>, config: Config): string[] {
  if (config.channelsFileLeftOut) return [];
  const configured = new Set(config.endpoints.flatMap((e) => e.forwardUrls));
  const notes: string[] = [];
  for (const [destination, n] of byDestination) {
    if (configured.has(destination)) continue;
    const them = n === 1 ? '1 of them is a forward' : `${n} of them are forwards`;
    notes.push(
      `${them} to ${destinationLabel(destination)}, which is no longer configured (LINE_FORWARD_URLS, FACEBOOK_FORWARD_URLS, WHATSAPP_FORWARD_URLS, or a channel's forward_urls): ${n === 1 ? 'it is' : 'they are'} not sent, and the service keeps ${n === 1 ? 'it' : 'them'} as dead letters again when it next starts`,
    );
  }
  return notes;
}

function describe(d: DeadLetter, describeOp: typeof describeOperation): string {
  if (d.operation) return `${describeOp(d.operation)} for ${d.operation.platform} user ${d.operation.userId} (channel ${d.operation.channel})`;
  if (d.forward) return `forward to ${destinationLabel(d.forward.destination)} (received ${isoTime(d.forward.receivedAt)})`;
  return d.type;
}

export function registerDeadLetters(program: Command): void {
  const group = program.command('dead-letters').description('what will not be retried, and why; queue it again');
  group
    .command('list')
    .description('list every dead letter with its reason, newest first')
    .option('--limit <n>', 'only the newest n (a last line then says how many there are in all)')
    .option('--json', 'print one JSON array')
    .action(async (opts: { json?: boolean; limit?: string }) => {
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
  group
    .command('discard')
    .description('remove dead letters for good (a forward\'s stored body goes with it)')
    .argument('[ids...]', 'dead-letter ids (op-N, fwd-N)')
    .option('--all', 'every dead letter')
    .action(async (ids: string[], opts: { all?: boolean }) => {
      process.exitCode = await runDeadLettersDiscard(ids, opts, process.env, processIo);
    });
}
