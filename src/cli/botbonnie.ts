import type { Command } from 'commander';
import type { Config } from '../config';
import type { BotbonnieClient, BotbonnieTag } from '../providers/botbonnie';
import { BOTBONNIE_CHANNEL } from '../providers/botbonnie-channels';
import { TagApiError } from '../providers/errors';
import type { CommandIo } from './command-io';

/**
 * `autotag botbonnie …`: BotBonnie tag administration from the command line, so a rule's
 * `remove_tag`/`add_tag` can name a tag that exists. Each command is a function of
 * (config, args, io) that returns the exit code; the commander wiring is at the end.
 */

type Needs = 'token' | 'token+botId';

async function withClient(
  config: Config,
  io: CommandIo,
  command: string,
  needs: Needs,
  fn: (client: BotbonnieClient) => Promise<void>,
): Promise<number> {
  const fail = (message: string) => {
    io.stderr(`autotag botbonnie ${command}: ${message}\n`);
    return 1;
  };
  const { token, botId, baseUrl } = config.providers.botbonnie;
  if (!token) return fail('BOTBONNIE_TOKEN is not set (the BotBonnie API token, from the BotBonnie console)');
  if (needs === 'token+botId' && !botId) return fail('BOTBONNIE_BOT_ID is not set (the BotBonnie bot ID, e.g. bot-XXXXXXXX)');
  // Loaded here, not at the top: the HTTP client is only needed by these commands, and `autotag` starts faster without it.
  const { createBotbonnieClient } = await import('../providers/botbonnie');
  const client = createBotbonnieClient({ baseUrl, token, timeoutMs: config.tagApiTimeoutMs, ...(botId ? { botId } : {}) });
  try {
    await fn(client);
    return 0;
  } catch (err) {
    if (err instanceof TagApiError) return fail(err.reason);
    throw err;
  } finally {
    await client.close();
  }
}

const json = (io: CommandIo, value: unknown) => io.stdout(`${JSON.stringify(value)}\n`);

export function createTagCommand(config: Config, args: { name: string; folder?: string; json?: boolean }, io: CommandIo): Promise<number> {
  return withClient(config, io, 'create-tag', 'token+botId', async (client) => {
    const { id } = await client.createTag({ name: args.name, ...(args.folder !== undefined ? { folder: args.folder } : {}) });
    if (args.json) json(io, { id, name: args.name });
    else io.stdout(`${id}\n`);
  });
}

export function getTagCommand(config: Config, args: { id: string; json?: boolean }, io: CommandIo): Promise<number> {
  return withClient(config, io, 'get-tag', 'token', async (client) => {
    const tag = await client.getTag(args.id);
    if (args.json) json(io, tag);
    else io.stdout(describeTag(tag));
  });
}

export function deleteTagCommand(config: Config, args: { id: string; json?: boolean }, io: CommandIo): Promise<number> {
  return withClient(config, io, 'delete-tag', 'token', async (client) => {
    const deleted = await client.deleteTag(args.id);
    if (args.json) json(io, { deleted });
    else io.stdout(deleted.map((id) => `deleted ${id}\n`).join(''));
  });
}

export interface UserTagsArgs {
  user: string;
  pid: string;
  channel: string;
  json?: boolean;
}

export async function userTagsCommand(config: Config, args: UserTagsArgs, io: CommandIo): Promise<number> {
  const channel = [...BOTBONNIE_CHANNEL].find(([platform]) => platform === args.channel.toLowerCase())?.[1];
  if (channel === undefined) {
    io.stderr(`autotag botbonnie user-tags: --channel must be ${[...BOTBONNIE_CHANNEL.keys()].join(' or ')}, got ${JSON.stringify(args.channel)}\n`);
    return 1;
  }
  return withClient(config, io, 'user-tags', 'token', async (client) => {
    const tags = await client.listUserTags({ bot_raw_uid: args.user, bot_pid: args.pid, bot_channel: channel });
    if (args.json) json(io, { tags });
    else if (tags.length === 0) io.stdout('(no tags)\n');
    else io.stdout(tags.map((t) => (t.name !== undefined ? `${t.id}\t${t.name}\n` : `${t.id}\n`)).join(''));
  });
}

function describeTag(tag: BotbonnieTag): string {
  const lines = [`id: ${tag.id}`];
  if (tag.name !== undefined) lines.push(`name: ${tag.name}`);
  if (tag.type !== undefined) lines.push(`type: ${tag.type === 1 ? 'folder' : 'tag'}`);
  if (tag.botId !== undefined) lines.push(`bot: ${tag.botId}`);
  if (tag.created !== undefined) lines.push(`created: ${new Date(tag.created).toISOString()}`);
  return `${lines.join('\n')}\n`;
}

export interface RegisterOptions {
  env?: NodeJS.ProcessEnv;
  io?: CommandIo;
}

export function registerBotbonnieCommands(program: Command, opts: RegisterOptions = {}): void {
  // Not processIo from ./io: that module opens stores, which these commands never need.
  const io: CommandIo = opts.io ?? { stdout: (t) => void process.stdout.write(t), stderr: (t) => void process.stderr.write(t) };
  const run = async (command: string, fn: (config: Config) => Promise<number>) => {
    const { ConfigError, loadConfig } = await import('../config');
    let config: Config;
    try {
      config = loadConfig(opts.env ?? process.env);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      io.stderr(`autotag botbonnie ${command}: ${err.message}\n`);
      process.exitCode = 1;
      return;
    }
    process.exitCode = await fn(config);
  };

  const bb = program
    .command('botbonnie')
    .description('BotBonnie tag administration (needs BOTBONNIE_TOKEN; create-tag also BOTBONNIE_BOT_ID)');
  bb.command('create-tag')
    .description('create a user tag; prints its id')
    .argument('<name>', 'tag name')
    .option('--folder <id>', 'the tag folder to create it in')
    .option('--json', 'print {"id","name"}')
    .action((name: string, o: { folder?: string; json?: boolean }) => run('create-tag', (c) => createTagCommand(c, { name, ...o }, io)));
  bb.command('get-tag')
    .description('show a tag or a tag folder')
    .argument('<id>', 'tag id, e.g. tag-XXXXXXXX')
    .option('--json', 'print the tag as JSON')
    .action((id: string, o: { json?: boolean }) => run('get-tag', (c) => getTagCommand(c, { id, ...o }, io)));
  bb.command('delete-tag')
    .description('delete a tag (a folder with everything in it); it is also removed from every user')
    .argument('<id>', 'tag id')
    .option('--json', 'print {"deleted":[ids]}')
    .action((id: string, o: { json?: boolean }) => run('delete-tag', (c) => deleteTagCommand(c, { id, ...o }, io)));
  bb.command('user-tags')
    .description("list a user's tags")
    .requiredOption('--user <uid>', 'the user id on the platform (LINE userId, Messenger sender id)')
    .requiredOption('--pid <pid>', 'bot_pid: the LINE bot id or the Facebook page id')
    .requiredOption('--channel <channel>', [...BOTBONNIE_CHANNEL.keys()].join(' or '))
    .option('--json', 'print {"tags":[{id,name}]}')
    .action((o: UserTagsArgs) => run('user-tags', (c) => userTagsCommand(c, o, io)));
}
