import type { Command } from 'commander';
import type { Config } from '../config';
import { isoTime } from '../format-time';
import type { BotbonnieClient, BotbonnieTag } from '../providers/botbonnie';
import { BOTBONNIE_CHANNEL } from '../providers/botbonnie-channels';
import type { BotbonnieSettings } from '../providers/botbonnie-provider';
import { TagApiError } from '../providers/errors';
import { leftOutWarning, processIo, type CommandIo } from './command-io';

/**
 * `autotag botbonnie …`: BotBonnie tag administration from the command line, so a rule's
 * `remove_tag`/`add_tag` can name a tag that exists. Each command is a function of
 * (config, args, io) that returns the exit code; the commander wiring is at the end.
 */

type Needs = 'token' | 'token+botId';

/** Every command takes `--account NAME`: a BotBonnie account of the channels file instead of the environment's. */
export interface AccountOption {
  account?: string;
}

/** The settings of the account a command works in, or why there are none. */
/** `fileAccount`: the name of the channels-file account chosen; undefined for the environment's. */
function accountSettings(config: Config, name: string | undefined): { settings: BotbonnieSettings; label: string; fileAccount?: string } | { problem: string } {
  if (name === undefined || name === 'botbonnie') {
    return { settings: config.providers.botbonnie, label: 'the environment\'s BotBonnie account' };
  }
  const account = config.accounts.find((a) => a.name === name);
  if (!account) {
    const names = config.accounts.filter((a) => a.provider.name === 'botbonnie').map((a) => a.name);
    return { problem: `--account: no account ${JSON.stringify(name)}${config.channelsFile ? ` in ${config.channelsFile.file}` : ' (there is no channels file)'}; the BotBonnie accounts are ${names.join(', ')}` };
  }
  if (account.provider.name !== 'botbonnie') return { problem: `--account: ${name} is a ${account.provider.title} account, not a BotBonnie account` };
  return { settings: account.settings as BotbonnieSettings, label: `account ${name}`, fileAccount: name };
}

/** Why an account of the channels file has no token: the variable it names is unset, as `validate` words it. */
function unsetTokenOf(config: Config, name: string): string {
  const variable = config.channelsFile?.accounts.find((a) => a.name === name)?.account.variables.token;
  if (variable === undefined) return `the token of account ${name} is not set`;
  return `${variable} is not set (the token of account ${name} is \${${variable}} in ${config.channelsFile?.file ?? 'the channels file'})`;
}

/** Prints `autotag botbonnie COMMAND: message` on stderr; the exit code 1. */
function failure(io: CommandIo, command: string): (message: string) => number {
  return (message) => {
    io.stderr(`autotag botbonnie ${command}: ${message}\n`);
    return 1;
  };
}

async function withClient(
  config: Config,
  io: CommandIo,
  command: string,
  needs: Needs,
  fn: (client: BotbonnieClient) => Promise<void>,
  accountName?: string,
): Promise<number> {
  const fail = failure(io, command);
  const chosen = accountSettings(config, accountName);
  if ('problem' in chosen) return fail(chosen.problem);
  const { token, botId, baseUrl } = chosen.settings;
  if (!token) {
    return fail(chosen.fileAccount !== undefined ? unsetTokenOf(config, chosen.fileAccount) : 'BOTBONNIE_TOKEN is not set (the BotBonnie API token, from the BotBonnie console)');
  }
  if (needs === 'token+botId' && !botId) {
    return fail(chosen.fileAccount !== undefined ? `${chosen.label} has no bot_id (the BotBonnie bot ID, e.g. bot-XXXXXXXX)` : 'BOTBONNIE_BOT_ID is not set (the BotBonnie bot ID, e.g. bot-XXXXXXXX)');
  }
  // Loaded here, not at the top: the HTTP client is only needed by these commands, and `autotag` starts faster without it.
  const { createBotbonnieClient } = await import('../providers/botbonnie');
  const client = createBotbonnieClient({ baseUrl, token, timeoutMs: config.tagApiTimeoutMs, ...(botId ? { botId } : {}) });
  try {
    await fn(client);
    return 0;
  } catch (err) {
    if (err instanceof TagApiError) {
      // Without an error of BotBonnie's own (its errorCode) the reason is the status alone: what it answered says more.
      const answer = err.code === undefined && err.bodyExcerpt ? `; it answered: ${err.bodyExcerpt}` : '';
      return fail(`${err.reason}${answer}`);
    }
    throw err;
  } finally {
    await client.close();
  }
}

const json = (io: CommandIo, value: unknown) => io.stdout(`${JSON.stringify(value)}\n`);

export function createTagCommand(config: Config, args: { name: string; folder?: string; json?: boolean } & AccountOption, io: CommandIo): Promise<number> {
  return withClient(config, io, 'create-tag', 'token+botId', async (client) => {
    const { id } = await client.createTag({ name: args.name, ...(args.folder !== undefined ? { folder: args.folder } : {}) });
    if (args.json) json(io, { id, name: args.name });
    else io.stdout(`${id}\n`);
  }, args.account);
}

export function getTagCommand(config: Config, args: { id: string; json?: boolean } & AccountOption, io: CommandIo): Promise<number> {
  return withClient(config, io, 'get-tag', 'token', async (client) => {
    const tag = await client.getTag(args.id);
    if (args.json) json(io, tag);
    else io.stdout(describeTag(tag));
  }, args.account);
}

export function deleteTagCommand(config: Config, args: { id: string; json?: boolean } & AccountOption, io: CommandIo): Promise<number> {
  return withClient(config, io, 'delete-tag', 'token', async (client) => {
    const deleted = await client.deleteTag(args.id);
    if (args.json) json(io, { deleted });
    else io.stdout(deleted.map((id) => `deleted ${id}\n`).join(''));
  }, args.account);
}

export interface UserTagsArgs extends AccountOption {
  user: string;
  /** Default for a LINE user: the account's LINE pid (`line_pid`, BOTBONNIE_LINE_PID). */
  pid?: string;
  channel: string;
  json?: boolean;
}

/**
 * The `bot_pid` to ask under: `--pid`, else for a LINE user the account's LINE pid, which the
 * tagger sends for every LINE user (taggers.ts); a Facebook user's is the page, which no
 * account setting says.
 */
function userPid(config: Config, args: UserTagsArgs, platform: string): { pid: string } | { problem: string } {
  if (args.pid !== undefined) return { pid: args.pid };
  const chosen = accountSettings(config, args.account);
  if ('problem' in chosen) return chosen;
  if (platform !== 'line') return { problem: `--pid is required for --channel ${platform}: the page id the user writes to (bot_pid)` };
  if (chosen.settings.linePid !== undefined) return { pid: chosen.settings.linePid };
  const setting = chosen.fileAccount !== undefined ? `line_pid of account ${chosen.fileAccount} in ${config.channelsFile?.file ?? 'the channels file'}` : 'BOTBONNIE_LINE_PID';
  return { problem: `--pid is not given and ${setting} is not set: give --pid (the LINE bot's user id, the webhook's destination) or set ${setting}` };
}

export async function userTagsCommand(config: Config, args: UserTagsArgs, io: CommandIo): Promise<number> {
  const fail = failure(io, 'user-tags');
  const platform = args.channel.toLowerCase();
  const channel = [...BOTBONNIE_CHANNEL].find(([p]) => p === platform)?.[1];
  if (channel === undefined) return fail(`--channel must be ${[...BOTBONNIE_CHANNEL.keys()].join(' or ')}, got ${JSON.stringify(args.channel)}`);
  const known = userPid(config, args, platform);
  if ('problem' in known) return fail(known.problem);
  return withClient(config, io, 'user-tags', 'token', async (client) => {
    const tags = await client.listUserTags({ bot_raw_uid: args.user, bot_pid: known.pid, bot_channel: channel });
    if (args.json) json(io, { tags });
    else if (tags.length === 0) io.stdout('(no tags)\n');
    else io.stdout(tags.map((t) => (t.name !== undefined ? `${t.id}\t${t.name}\n` : `${t.id}\n`)).join(''));
  }, args.account);
}

function describeTag(tag: BotbonnieTag): string {
  const lines = [`id: ${tag.id}`];
  if (tag.name !== undefined) lines.push(`name: ${tag.name}`);
  if (tag.type !== undefined) lines.push(`type: ${tag.type === 1 ? 'folder' : 'tag'}`);
  if (tag.botId !== undefined) lines.push(`bot: ${tag.botId}`);
  // Milliseconds per the docs; isoTime shows a value no date can hold as the number sent.
  if (tag.created !== undefined) lines.push(`created: ${isoTime(tag.created)}`);
  return `${lines.join('\n')}\n`;
}

export interface RegisterOptions {
  env?: NodeJS.ProcessEnv;
  io?: CommandIo;
}

export function registerBotbonnieCommands(program: Command, opts: RegisterOptions = {}): void {
  // What BotBonnie answers (tag names, error messages) is printed with its control characters made visible.
  const io: CommandIo = opts.io ?? processIo;
  const run = async (command: string, account: string | undefined, fn: (config: Config) => Promise<number>) => {
    const { ConfigError, loadConfig } = await import('../config');
    let config: Config;
    try {
      // An unset variable of another account is no reason to refuse; the chosen account's token is checked.
      // The environment's account (no --account, or --account botbonnie) needs no channels file: a broken one is said and left out.
      config = loadConfig(opts.env ?? process.env, { unsetVariables: 'warning', channelsFileProblems: account === undefined || account === 'botbonnie' ? 'leave-out' : 'error' });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      io.stderr(`autotag botbonnie ${command}: ${err.message}\n`);
      process.exitCode = 1;
      return;
    }
    if (config.channelsFileLeftOut) io.stderr(leftOutWarning(`botbonnie ${command}`, config.channelsFileLeftOut));
    process.exitCode = await fn(config);
  };

  const bb = program
    .command('botbonnie')
    .description('BotBonnie tag administration (needs BOTBONNIE_TOKEN, or --account NAME; create-tag also the bot id)');
  const accountOption = '--account <name>';
  const accountHelp = 'a BotBonnie account of the channels file (default: the environment\'s, BOTBONNIE_*)';
  bb.command('create-tag')
    .description('create a user tag; prints its id')
    .argument('<name>', 'tag name')
    .option('--folder <id>', 'the tag folder to create it in')
    .option(accountOption, accountHelp)
    .option('--json', 'print {"id","name"}')
    .action((name: string, o: { folder?: string; json?: boolean } & AccountOption) => run('create-tag', o.account, (c) => createTagCommand(c, { name, ...o }, io)));
  bb.command('get-tag')
    .description('show a tag or a tag folder')
    .argument('<id>', 'tag id, e.g. tag-XXXXXXXX')
    .option(accountOption, accountHelp)
    .option('--json', 'print the tag as JSON')
    .action((id: string, o: { json?: boolean } & AccountOption) => run('get-tag', o.account, (c) => getTagCommand(c, { id, ...o }, io)));
  bb.command('delete-tag')
    .description('delete a tag (a folder with everything in it); it is also removed from every user')
    .argument('<id>', 'tag id')
    .option(accountOption, accountHelp)
    .option('--json', 'print {"deleted":[ids]}')
    .action((id: string, o: { json?: boolean } & AccountOption) => run('delete-tag', o.account, (c) => deleteTagCommand(c, { id, ...o }, io)));
  bb.command('user-tags')
    .description("list a user's tags")
    .requiredOption('--user <uid>', 'the user id on the platform (LINE userId, Messenger sender id)')
    .option('--pid <pid>', "bot_pid: the Facebook page id, or the LINE bot id (default for LINE: the account's line_pid, BOTBONNIE_LINE_PID)")
    .requiredOption('--channel <channel>', [...BOTBONNIE_CHANNEL.keys()].join(' or '))
    .option(accountOption, accountHelp)
    .option('--json', 'print {"tags":[{id,name}]}')
    .action((o: UserTagsArgs) => run('user-tags', o.account, (c) => userTagsCommand(c, o, io)));
}
