import type { Command } from 'commander';
import type { ConfiguredAccount } from '../channels/configured';
import { EVENT_KINDS, type EventKind } from '../event-kinds';
import type { PrintedOperation } from '../providers/describe-operation';
import type { RuleEvent } from '../rules';
import { NO_ACCOUNT } from '../no-account';
import { plural } from '../plural';
import type { TagAction } from '../tag-operation';
import { defaultDeps, rulesDirNamedBy, rulesDirOf, type CommandIo, type RulesCommandDeps } from './validate';
import { processIo } from './command-io';
import { environmentWarnings, unsetVariableWarnings } from './environment-problems';

export interface TestOptions {
  text?: string;
  platform?: string;
  channel?: string;
  event?: string;
  data?: string;
  at?: string;
  rules?: string;
  json?: boolean;
}

/**
 * `autotag test`: a dry run, no network. Which rules match the event described by
 * the options, and which tag operations would follow. Exit 0 whether or not
 * anything matched; 1 on bad arguments or invalid rules. Failing examples are
 * mentioned on stderr and do not stop it.
 */
/** An action left out for this platform's users, and why. */
interface LeftOut {
  action: TagAction;
  described: string;
  reason: string;
}

export async function runTest(opts: TestOptions, io: CommandIo, deps: RulesCommandDeps = defaultDeps()): Promise<number> {
  const fail = (message: string) => {
    io.stderr(`autotag test: ${message}\n`);
    return 1;
  };
  // Loaded on use: `autotag --help` must not wait for the rules engine (zod, yaml).
  const { bindOperations, dryRunInputs, dryRunWhere, evaluate, formatProblem, hasOffset, loadRuleSet, parseInstant } = await import('../rules');
  const { describeOperation, printedOperation } = await import('../providers/describe-operation');
  const { channelsForRules } = await import('../channels/for-rules');
  const channels = channelsForRules(deps.env, deps.cwd);
  if (channels.problems.length) {
    io.stderr(channels.problems.map((p) => `${formatProblem(p)}\n`).join(''));
    return 1;
  }
  const catalogue = channels.catalogue!;
  const where = dryRunWhere(catalogue, opts.platform, opts.channel);
  if ('problem' in where) return fail(`--${where.field}: ${where.problem}`);
  const kind = opts.event ?? 'message';
  if (!(EVENT_KINDS as readonly string[]).includes(kind)) {
    return fail(`--event: unknown event ${JSON.stringify(kind)}: use ${EVENT_KINDS.join(', ')}`);
  }
  let timestamp = deps.now();
  if (opts.at !== undefined) {
    const at = hasOffset(opts.at) ? parseInstant(opts.at, undefined) : undefined;
    if (at === undefined) {
      return fail(
        `--at ${JSON.stringify(opts.at)} is not an ISO 8601 time with an offset: write e.g. 2026-12-05T10:00:00+08:00 or 2026-12-05T02:00:00Z`,
      );
    }
    timestamp = at;
  }

  const loaded = await loadRuleSet(rulesDirOf(opts.rules, deps.env), { now: deps.now(), cwd: deps.cwd, catalogue, dirNamedBy: rulesDirNamedBy(opts.rules, deps.env) });
  if (!loaded.ruleSet) {
    io.stderr(loaded.problems.map((p) => `${formatProblem(p)}\n`).join(''));
    return 1;
  }
  // As `validate` does: what `serve` would refuse in the environment (a `${VARIABLE}` of the
  // channels file unset, a misspelt LOG_LEVEL, a bad PORT) is said, without stopping the dry
  // run, which needs none of it.
  for (const warning of unsetVariableWarnings(channels.warnings)) io.stderr(warning);
  for (const warning of await environmentWarnings(deps.env, deps.cwd)) io.stderr(warning);
  if (loaded.exampleFailures.length) {
    io.stderr(
      `warning: ${plural(loaded.exampleFailures.length, 'example')} of the rules ${loaded.exampleFailures.length === 1 ? 'does' : 'do'} not hold (see autotag validate):\n` +
        loaded.exampleFailures.map((p) => `${formatProblem(p)}\n`).join(''),
    );
  }

  const { leftOut: inputsLeftOut, ...inputs } = dryRunInputs(kind as EventKind, opts.text, opts.data);
  for (const note of inputsLeftOut) io.stderr(`warning: ${note} (--event ${kind})\n`);
  const event: RuleEvent & { channel: string } = {
    platform: where.platform,
    channel: where.channel,
    kind: kind as EventKind,
    ...inputs,
    timestamp,
  };
  const { matched, actions } = evaluate(loaded.ruleSet, event);
  // Which account each operation would go to on this channel: the channels file's accounts
  // are known without their secrets; the environment's count as configured when their token is set.
  const { createAccountRouter } = await import('../channels/account-router');
  const { fileAccounts, fileEndpoints } = await import('../channels/configured');
  const file = channels.file;
  const router = createAccountRouter(file ? fileEndpoints(file) : [], [
    ...(file ? fileAccounts(file) : []),
    ...(await environmentAccounts(deps.env)),
  ]);
  // Bound as `serve` binds them (as the admin playground does; no real user here: placeholders),
  // so what serve leaves out is left out here too: an action that lands on the operation of an
  // earlier one (the same tag in the same account, one naming the account the other gets by
  // default) is dropped. The person an account sees depends on the account alone, so without
  // the accounts' settings (no secrets here) the operations are told apart as serve tells them.
  const bound = bindOperations(
    actions,
    { platform: event.platform, channel: event.channel, recipient: '', userId: '' },
    (a) => router.accountFor(a, event.channel),
  );
  const operations: PrintedOperation[] = bound.actions.map((a) => printedOperation(a));
  const accounts = bound.operations.map((o) => o.account);
  const leftOut: LeftOut[] = bound.skipped.map(({ action, reason }) => ({ action, described: describeOperation(action), reason }));

  if (opts.json) {
    io.stdout(`${JSON.stringify({ matched, operations })}\n`);
    return 0;
  }
  const { environmentChannelOf } = await import('../platforms/endpoints');
  // The channel is named when it is not the one the platform's events come in on by default.
  const channel = event.channel === environmentChannelOf(event.platform) ? undefined : event.channel;
  io.stdout(describeResult(event, channel, matched, loaded.ruleSet.rules, operations, accounts, leftOut));
  return 0;
}

/** The environment's accounts as `serve` would have them: configured when their token variable is set. */
async function environmentAccounts(env: NodeJS.ProcessEnv): Promise<ConfiguredAccount[]> {
  const { PROVIDER_DESCRIPTORS } = await import('../providers');
  return PROVIDER_DESCRIPTORS.map((provider) => ({
    name: provider.name,
    provider,
    settings: undefined,
    configured: (env[provider.tokenVariable]?.trim() ?? '') !== '',
    source: 'environment' as const,
  }));
}

function describeResult(
  event: RuleEvent,
  channel: string | undefined,
  matched: string[],
  rules: readonly { id: string; file: string; line: number; priority: number }[],
  operations: PrintedOperation[],
  accounts: string[],
  leftOut: LeftOut[],
): string {
  const out: string[] = [];
  const what = [`${event.kind} on ${event.platform}${channel === undefined ? '' : ` (channel ${channel})`}`];
  if (event.text !== undefined) what.push(`text ${JSON.stringify(event.text)}`);
  if (event.postbackData !== undefined) what.push(`data ${JSON.stringify(event.postbackData)}`);
  what.push(`at ${new Date(event.timestamp).toISOString()}`);
  out.push(`Event: ${what.join(', ')}`, '');
  if (matched.length === 0) {
    out.push('No rule matched: no tag operations.');
    return `${out.join('\n')}\n`;
  }
  const byId = new Map(rules.map((r) => [r.id, r]));
  out.push(`Matched ${plural(matched.length, 'rule')} (in evaluation order):`);
  out.push(
    table(
      ['#', 'RULE', 'PRIORITY', 'WHERE'],
      matched.map((id, i) => {
        const r = byId.get(id);
        return [String(i + 1), id, String(r?.priority ?? ''), r ? `${r.file}:${r.line}` : ''];
      }),
    ),
  );
  if (operations.length) {
    out.push(`Tag operations (${operations.length}):`);
    // The account column where one goes elsewhere than the environment's account of its provider,
    // and on a channel of the channels file (whose own accounts a reader would assume otherwise).
    const showAccounts = channel !== undefined || operations.some((o, i) => accounts[i] !== o.provider);
    out.push(
      table(
        ['ACTION', 'PROVIDER', 'KIND', 'TAG', 'FOR', ...(showAccounts ? ['ACCOUNT'] : [])],
        operations.map((o, i) => {
          const account = accounts[i] ?? NO_ACCOUNT;
          const cells = [o.action, o.provider, o.kind ?? '-', o.tagId, o.for ?? '-'];
          return showAccounts ? [...cells, account === NO_ACCOUNT ? '(none: kept as a dead letter)' : account] : cells;
        }),
      ),
    );
  } else {
    out.push('No tag operations.');
  }
  if (leftOut.length) {
    out.push('', `Left out (${leftOut.length}):`);
    for (const { described, reason } of leftOut) out.push(`  ${described}: ${reason}`);
  }
  return `${out.join('\n')}\n`;
}

/** Rows as aligned columns, with a rule under the header. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')}`.trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function registerTestCommand(
  program: Command,
  io: CommandIo = processIo,
  deps: () => RulesCommandDeps = defaultDeps,
): void {
  program
    .command('test')
    .description('dry run, no network: which rules match an event and which tag operations follow')
    .option('--text <text>', 'message text (leave out for an event without text)')
    .option('--platform <platform>', "the platform the event comes from (the names are listed below; default line, or the --channel's)")
    .option('--channel <id>', "the channel the event comes in on: the channels file's ids, or line, facebook, whatsapp (default: the platform's)")
    .option('--event <event>', `${EVENT_KINDS.join(' | ')}`, 'message')
    .option('--data <data>', 'postback data (with --event message: a quick reply)')
    .option('--at <time>', 'ISO 8601 time with an offset, e.g. 2026-12-05T10:00:00+08:00 (default: now)')
    .option('--rules <dir>', 'folder of rule files (default: RULES_DIR, else ./rules)')
    .option('--json', 'print exactly one JSON object: {"matched":[…],"operations":[…]}')
    // Computed when help is shown: the platform list loads the platform modules, which --help of other commands need not.
    .addHelpText('after', () => `\nPlatforms: ${(require('../platforms') as typeof import('../platforms')).PLATFORMS.join(', ')}`)
    .action(async (opts: TestOptions) => {
      process.exitCode = await runTest(opts, io, deps());
    });
}
