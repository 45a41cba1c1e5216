import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import {
  createTagCommand,
  deleteTagCommand,
  getTagCommand,
  registerBotbonnieCommands,
  userTagsCommand,
} from '../../../src/cli/botbonnie';
import type { CommandIo } from '../../../src/cli/io';
import { loadConfig, type Config } from '../../../src/config';
import { startFakeBotbonnie, type FakeBotbonnie } from '../../helpers/fake-tag-api';

function bufferIo(): CommandIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return { stdout: (t) => void (out += t), stderr: (t) => void (err += t), out: () => out, err: () => err };
}

describe('autotag botbonnie … against a fake BotBonnie', () => {
  let fake: FakeBotbonnie;
  let env: NodeJS.ProcessEnv;
  let config: Config;

  beforeAll(async () => {
    fake = await startFakeBotbonnie({ token: 'bb-cli-token', botId: 'bot-cli' });
    env = { BOTBONNIE_BASE_URL: fake.baseUrl, BOTBONNIE_TOKEN: 'bb-cli-token', BOTBONNIE_BOT_ID: 'bot-cli', TAG_API_TIMEOUT_MS: '2000' };
    config = loadConfig(env);
  });
  beforeEach(() => fake.api.reset());
  afterAll(() => fake.close());

  it('create-tag prints the new id; --json prints {"id","name"}; --folder becomes parentId', async () => {
    const io = bufferIo();
    expect(await createTagCommand(config, { name: '優惠券' }, io)).toBe(0);
    const id = io.out().trim();
    expect(fake.tags.get(id)).toMatchObject({ name: '優惠券', botId: 'bot-cli', type: 0 });

    const folder = fake.addTag({ id: 'tag-folder', type: 1 });
    const io2 = bufferIo();
    expect(await createTagCommand(config, { name: 'vip', folder: folder.id, json: true }, io2)).toBe(0);
    const printed = JSON.parse(io2.out()) as { id: string; name: string };
    expect(printed.name).toBe('vip');
    expect(fake.tags.get(printed.id)?.parentId).toBe('tag-folder');
    expect(fake.requests[1]!.body).toMatchObject({ parentId: 'tag-folder' });
  });

  it('get-tag shows a tag; --json prints it as an object', async () => {
    fake.addTag({ id: 'tag-show', name: 'coupon', created: Date.UTC(2026, 0, 2) });
    const io = bufferIo();
    expect(await getTagCommand(config, { id: 'tag-show' }, io)).toBe(0);
    expect(io.out()).toBe('id: tag-show\nname: coupon\ntype: tag\nbot: bot-cli\ncreated: 2026-01-02T00:00:00.000Z\n');
    const io2 = bufferIo();
    expect(await getTagCommand(config, { id: 'tag-show', json: true }, io2)).toBe(0);
    expect(JSON.parse(io2.out())).toMatchObject({ id: 'tag-show', name: 'coupon', type: 0 });
  });

  it('get-tag shows a created time that is no date as the number BotBonnie sent', async () => {
    fake.addTag({ id: 'tag-odd-time', name: 'odd', created: 1e17 });
    const io = bufferIo();
    expect(await getTagCommand(config, { id: 'tag-odd-time' }, io)).toBe(0);
    expect(io.out()).toBe('id: tag-odd-time\nname: odd\ntype: tag\nbot: bot-cli\ncreated: 100000000000000000 ms since 1970\n');
  });

  it('get-tag and delete-tag refuse an empty id, "." and ".." without a request (the URL would name another resource)', async () => {
    for (const id of ['', ' ', '.', '..']) {
      const io = bufferIo();
      expect(await deleteTagCommand(config, { id }, io)).toBe(1);
      expect(io.err()).toBe(`autotag botbonnie delete-tag: ${JSON.stringify(id)} is not a tag id\n`);
      const io2 = bufferIo();
      expect(await getTagCommand(config, { id }, io2)).toBe(1);
      expect(io2.err()).toBe(`autotag botbonnie get-tag: ${JSON.stringify(id)} is not a tag id\n`);
    }
    expect(fake.requests).toHaveLength(0);
  });

  it('get-tag of an unknown id exits 1 with the API error on stderr', async () => {
    const io = bufferIo();
    expect(await getTagCommand(config, { id: 'tag-nope' }, io)).toBe(1);
    expect(io.err()).toBe('autotag botbonnie get-tag: 404 from botbonnie (code 404): tag tag-nope not found\n');
    expect(io.out()).toBe('');
  });

  it('a failure without an error of BotBonnie\'s own shows what it answered (a proxy\'s 502 page, a bare 500)', async () => {
    fake.api.enqueue({ status: 502, body: 'upstream connect error: bad gateway' });
    const io = bufferIo();
    expect(await getTagCommand(config, { id: 'tag-x' }, io)).toBe(1);
    expect(io.err()).toMatch(/^autotag botbonnie get-tag: 502 from botbonnie.*; it answered: upstream connect error: bad gateway\n$/);
    expect(io.out()).toBe('');
  });

  it('delete-tag prints every id deleted', async () => {
    fake.addTag({ id: 'tag-dir', type: 1 });
    fake.addTag({ id: 'tag-child', parentId: 'tag-dir' });
    const io = bufferIo();
    expect(await deleteTagCommand(config, { id: 'tag-dir' }, io)).toBe(0);
    expect(io.out()).toBe('deleted tag-dir\ndeleted tag-child\n');
    expect(fake.requests[0]).toMatchObject({ method: 'DELETE', path: '/v1/api/tag/tag-dir' });
  });

  it("user-tags lists a user's tags for a channel", async () => {
    fake.addTag({ id: 'tag-a', name: 'alpha' });
    const io0 = bufferIo();
    expect(await userTagsCommand(config, { user: 'U1', pid: 'page-9', channel: 'facebook' }, io0)).toBe(0);
    expect(io0.out()).toBe('(no tags)\n');

    const add = await fetch(`${fake.baseUrl}/v1/api/user/tag`, {
      method: 'POST',
      headers: { authorization: 'Bearer bb-cli-token', 'content-type': 'application/json' },
      body: JSON.stringify({ bot_tag_id: 'tag-a', bot_raw_uid: 'U1', bot_pid: 'page-9', bot_channel: 0 }),
    });
    expect(add.status).toBe(200);

    const io = bufferIo();
    expect(await userTagsCommand(config, { user: 'U1', pid: 'page-9', channel: 'facebook' }, io)).toBe(0);
    expect(io.out()).toBe('tag-a\talpha\n');
    const io2 = bufferIo();
    expect(await userTagsCommand(config, { user: 'U1', pid: 'page-9', channel: 'line', json: true }, io2)).toBe(0);
    expect(JSON.parse(io2.out())).toEqual({ tags: [] });
    expect(fake.requests.at(-1)!.query).toEqual({ bot_raw_uid: 'U1', bot_pid: 'page-9', bot_channel: '1' });
  });

  it("user-tags of a LINE user asks under the account's LINE pid when --pid is not given; --pid still wins", async () => {
    const withPid = loadConfig({ ...env, BOTBONNIE_LINE_PID: '@env-pid' });
    const io = bufferIo();
    expect(await userTagsCommand(withPid, { user: 'U1', channel: 'line', json: true }, io)).toBe(0);
    expect(JSON.parse(io.out())).toEqual({ tags: [] });
    expect(fake.requests.at(-1)!.query).toEqual({ bot_raw_uid: 'U1', bot_pid: '@env-pid', bot_channel: '1' });
    expect(await userTagsCommand(withPid, { user: 'U1', pid: '@given', channel: 'line' }, bufferIo())).toBe(0);
    expect(fake.requests.at(-1)!.query).toEqual({ bot_raw_uid: 'U1', bot_pid: '@given', bot_channel: '1' });

    // An account of the channels file: its line_pid.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bb-cli-'));
    try {
      fs.writeFileSync(
        path.join(dir, 'channels.yaml'),
        `accounts:\n  brand-b: { provider: botbonnie, token: "\${BB_TOKEN}", line_pid: "@brandb", base_url: ${fake.baseUrl} }\n` +
          `  brand-c: { provider: botbonnie, token: "\${BB_TOKEN}", base_url: ${fake.baseUrl} }\nchannels: []\n`,
      );
      const fileConfig = loadConfig({ ...env, BOTBONNIE_LINE_PID: '@env-pid', BB_TOKEN: 'bb-cli-token', CHANNELS_FILE: 'channels.yaml' }, { cwd: dir });
      expect(await userTagsCommand(fileConfig, { user: 'U2', channel: 'line', account: 'brand-b' }, bufferIo())).toBe(0);
      expect(fake.requests.at(-1)!.query).toEqual({ bot_raw_uid: 'U2', bot_pid: '@brandb', bot_channel: '1' });
      const io2 = bufferIo();
      expect(await userTagsCommand(fileConfig, { user: 'U2', channel: 'line', account: 'brand-c' }, io2)).toBe(1);
      expect(io2.err()).toBe(
        'autotag botbonnie user-tags: --pid is not given and line_pid of account brand-c in channels.yaml is not set: ' +
          "give --pid (the LINE bot's user id, the webhook's destination) or set line_pid of account brand-c in channels.yaml\n",
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(fake.requests).toHaveLength(3);
  });

  it('user-tags without --pid says which flag or setting gives it, and sends nothing', async () => {
    const io = bufferIo();
    expect(await userTagsCommand(config, { user: 'U1', channel: 'line' }, io)).toBe(1);
    expect(io.err()).toBe(
      "autotag botbonnie user-tags: --pid is not given and BOTBONNIE_LINE_PID is not set: give --pid (the LINE bot's user id, the webhook's destination) or set BOTBONNIE_LINE_PID\n",
    );
    const io2 = bufferIo();
    // A Facebook user's pid is the page: no account setting gives it, BOTBONNIE_LINE_PID included.
    expect(await userTagsCommand(loadConfig({ ...env, BOTBONNIE_LINE_PID: '@env-pid' }), { user: 'U1', channel: 'facebook' }, io2)).toBe(1);
    expect(io2.err()).toBe('autotag botbonnie user-tags: --pid is required for --channel facebook: the page id the user writes to (bot_pid)\n');
    expect(fake.requests).toHaveLength(0);
  });

  it('user-tags refuses a channel other than line or facebook', async () => {
    const io = bufferIo();
    expect(await userTagsCommand(config, { user: 'U1', pid: 'p', channel: 'instagram' }, io)).toBe(1);
    expect(io.err()).toContain('--channel must be line or facebook');
    expect(fake.requests).toHaveLength(0);
  });

  it('a missing BOTBONNIE_TOKEN or BOTBONNIE_BOT_ID is an error naming the variable, and nothing is sent', async () => {
    const io = bufferIo();
    // As the command loads it (src/cli/botbonnie.ts): a partly configured provider is refused by `serve` only.
    expect(await getTagCommand(loadConfig({ ...env, BOTBONNIE_TOKEN: '' }, { unsetVariables: 'warning' }), { id: 'tag-x' }, io)).toBe(1);
    expect(io.err()).toMatch(/^autotag botbonnie get-tag: BOTBONNIE_TOKEN is not set/);
    const io2 = bufferIo();
    expect(await createTagCommand(loadConfig({ ...env, BOTBONNIE_BOT_ID: undefined }), { name: 'x' }, io2)).toBe(1);
    expect(io2.err()).toMatch(/^autotag botbonnie create-tag: BOTBONNIE_BOT_ID is not set/);
    expect(fake.requests).toHaveLength(0);
  });

  it('is wired into commander: `botbonnie create-tag NAME --json` and a bad environment', async () => {
    const run = async (argv: string[], runEnv: NodeJS.ProcessEnv) => {
      const io = bufferIo();
      const program = new Command().exitOverride();
      registerBotbonnieCommands(program, { env: runEnv, io });
      process.exitCode = undefined;
      await program.parseAsync(['node', 'autotag', ...argv]);
      const code = process.exitCode;
      process.exitCode = undefined;
      return { code, io };
    };
    const ok = await run(['botbonnie', 'create-tag', 'from-cli', '--json'], env);
    expect(ok.code).toBe(0);
    expect(fake.tags.get((JSON.parse(ok.io.out()) as { id: string }).id)?.name).toBe('from-cli');
    const tags = await run(['botbonnie', 'user-tags', '--user', 'U3', '--channel', 'line'], { ...env, BOTBONNIE_LINE_PID: '@env-pid' });
    expect(tags).toMatchObject({ code: 0 });
    expect(fake.requests.at(-1)!.query).toEqual({ bot_raw_uid: 'U3', bot_pid: '@env-pid', bot_channel: '1' });

    const bad = await run(['botbonnie', 'get-tag', 'tag-x'], { ...env, BOTBONNIE_BASE_URL: 'not a url' });
    expect(bad.code).toBe(1);
    expect(bad.io.err()).toContain('BOTBONNIE_BASE_URL');
  });
});
