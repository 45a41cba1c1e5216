import type { Command } from 'commander';
import { isoTime } from '../format-time';
import type { describeOperation } from '../providers/describe-operation';
import type { ExpiringTag, HistoryCall, HistoryEvent, UserHistory } from '../store/store';
import { causeSentence, datedApart } from './history-notes';
import { positiveCount, processIo, withStore, type CommandIo } from './io';

export async function runHistory(opts: { user?: string; json?: boolean; limit?: string }, env: NodeJS.ProcessEnv, io: CommandIo, now: () => number = Date.now): Promise<number> {
  // A blank id is no user (no event has one): refused as a missing one rather than answered "no history".
  if (!opts.user?.trim()) {
    const given = opts.user ? ` (${JSON.stringify(opts.user)} is blank)` : '';
    io.stderr(`autotag history: --user ID is required${given} (the user id the platform sent, e.g. a LINE userId or a Messenger sender id)\n`);
    return 1;
  }
  const limit = opts.limit === undefined ? 200 : positiveCount(opts.limit);
  if (limit === undefined) {
    io.stderr(`autotag history: --limit must be a whole number ≥ 1, got ${JSON.stringify(opts.limit)}\n`);
    return 1;
  }
  const user = opts.user;
  // Loaded on use: registering the command line must not load the provider descriptors (zod).
  const { describeOperation: describe } = await import('../providers/describe-operation');
  return withStore('history', env, io, async (store) => {
    const history = await store.userHistory(user, limit);
    if (opts.json) io.stdout(`${JSON.stringify(history)}\n`);
    else io.stdout(renderHistory(history, describe, now()));
    return 0;
  });
}

type Line = { at: number; order: number; text: string };
type Describe = typeof describeOperation;

/**
 * A readable timeline: each event with the rules it matched, then the tag calls that
 * followed; then the tags whose lifetime is running, with when each will be removed (a
 * lifetime that ended while the service was stopped: its removal is due, not to come).
 */
export function renderHistory(h: UserHistory, describe: Describe, now: number = Date.now()): string {
  if (h.events.length === 0 && h.calls.length === 0 && h.expiring.length === 0) return `no history for user ${h.userId}\n`;
  const lines: Line[] = [
    ...h.events.map((e) => ({ at: e.receivedAt, order: 0, text: describeEvent(e, describe) })),
    ...h.calls.map((c) => ({ at: c.at, order: 1, text: describeCall(c, describe) })),
  ];
  lines.sort((a, b) => a.at - b.at || a.order - b.order);
  const expiring = h.expiring.length ? `will expire:\n${h.expiring.map((x) => describeExpiring(x, describe, now)).join('\n')}\n` : '';
  return `history of ${h.userId}\n${lines.map((l) => `${isoTime(l.at)}  ${l.text}`).join('\n')}\n${expiring}${leftOut(h)}`;
}

/** What the limit left out, e.g. "(showing the latest 200 events of 250; --limit N for more)"; nothing when it left nothing out. */
function leftOut(h: UserHistory): string {
  const counts = (n: number, total: number, what: string, which = 'latest') => (n < total ? [`the ${which} ${n} ${what}${n === 1 ? '' : 's'} of ${total}`] : []);
  const parts = [
    ...counts(h.events.length, h.total.events, 'event'),
    ...counts(h.calls.length, h.total.calls, 'tag call'),
    ...counts(h.expiring.length, h.total.expiring, 'running lifetime', 'soonest'),
  ];
  return parts.length ? `(showing ${parts.join(', ')}; --limit N for more)\n` : '';
}

function describeEvent(e: HistoryEvent, describe: Describe): string {
  const what = [e.kind === 'other' ? e.type : e.kind];
  if (e.text !== undefined) what.push(JSON.stringify(e.text));
  if (e.postbackData !== undefined) what.push(`data=${JSON.stringify(e.postbackData)}`);
  const matched = e.matched.length ? `matched ${e.matched.join(', ')}` : 'matched no rule';
  const ops = e.operations.length ? ` → ${e.operations.map(describe).join(', ')}` : '';
  const dated = datedApart(e);
  const when = dated === undefined ? '' : `, dated ${isoTime(dated)}`;
  return `${e.platform} ${what.join(' ')} (event ${e.eventId}${when}, channel ${e.channel}): ${matched}${ops}`;
}

function describeCall(c: HistoryCall, describe: Describe): string {
  const op = describe(c.operation);
  const cause = causeSentence(c);
  // Entries the store made without a call say why, in place of a status.
  if (cause) return `  ${c.outcome}: ${op} — ${cause}`;
  const status = c.status === undefined ? '' : ` (${c.status})`;
  const error = c.error && c.outcome !== 'applied' ? `: ${c.error}` : '';
  return `  call ${op}: ${c.outcome}${status}${error}`;
}

function describeExpiring(x: ExpiringTag, describe: Describe, now: number): string {
  const when = x.expiresAt > now ? `removed at ${isoTime(x.expiresAt)}` : `removal due since ${isoTime(x.expiresAt)} (the running service makes it)`;
  return `  ${describe(x.operation)}: ${when}${x.rule ? ` (for: of rule ${x.rule})` : ''}`;
}

export function registerHistory(program: Command): void {
  program
    .command('history')
    .description("one user's timeline: events, the rules they matched, the tag calls that followed and how each ended")
    .requiredOption('--user <id>', 'the user id as the platform sent it (a LINE userId, a sender id, a phone number…)')
    .option('--limit <n>', 'at most this many events (and tag calls), 200 unless given; a last line says what it left out')
    .option('--json', 'print one JSON object')
    .action(async (opts: { user?: string; json?: boolean; limit?: string }) => {
      process.exitCode = await runHistory(opts, process.env, processIo);
    });
}
