import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from '../helpers/app-harness';
import { startFakeBotbonnie } from '../helpers/fake-tag-api';
import { ROOT, runCli } from './cli-run';
import { silentLogger } from '../../src/log';
import { createSqliteStore } from '../../src/store/sqlite';
import { accepted, batch, forwardTo, tagOp } from '../store/builders';
import { Client } from 'pg';
import Database from '../../src/store/sqlite/driver';
import { describePostgres, dropSchema, newSchemaName } from '../helpers/pg-schema';

const run = promisify(execFile);

/** The commands that read what the service wrote: none of them may create a store. */
const READING_COMMANDS = [[['status', '--json']], [['dead-letters', 'list']], [['dead-letters', 'retry', '--all']], [['history', '--user', 'U1']]];

describe('operator commands on an SQLite store that does not exist', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('autotag-nostore-');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each(READING_COMMANDS)('%j refuses, names the file it looked for, and creates nothing', async (args) => {
    const dataDir = path.join(dir, 'data');
    const r = await runCli(args, { DATA_DIR: dataDir });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    // Named as every command's errors are: `autotag COMMAND: …`.
    const command = args[0] === 'dead-letters' ? `${args[0]} ${args[1]}` : args[0];
    expect(r.stderr).toContain(`autotag ${command}: no store at ${path.join(dataDir, 'autotag.db')}`);
    expect(r.stderr).toContain('DATA_DIR');
    expect(fs.existsSync(dataDir)).toBe(false);
  });

  it('refuses a file that holds no store (an empty autotag.db) and creates nothing in it', async () => {
    const dataDir = path.join(dir, 'data');
    fs.mkdirSync(dataDir);
    fs.writeFileSync(path.join(dataDir, 'autotag.db'), '');
    const r = await runCli(['status', '--json'], { DATA_DIR: dataDir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the SQLite file ${path.join(dataDir, 'autotag.db')} holds no chat-autotag store, so the service has not run with it; nothing was created in it`);
    const check = createSqliteStore({ file: path.join(dataDir, 'autotag.db'), log: silentLogger() });
    await expect(check.migrate({ existingOnly: true })).rejects.toThrow(/holds no chat-autotag store/);
    await check.close();
  });

  it('migrate with a DATA_DIR that is a file says so (not mkdir\'s "file already exists")', async () => {
    const file = path.join(dir, 'data');
    fs.writeFileSync(file, 'not a folder');
    const r = await runCli(['migrate'], { DATA_DIR: file });
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toBe(`autotag migrate: cannot open the store (DATA_DIR: SQLite in ${file}): cannot open the SQLite store at ${path.join(file, 'autotag.db')}: ${file} is not a folder\n`);
  });

  it('migrate with a DATA_DIR that is a symbolic link to nothing names the link and its target', async () => {
    const link = path.join(dir, 'data');
    const target = path.join(dir, 'volume-not-mounted');
    // Written relative, as `ln -s volume-not-mounted data` does: said as the path it leads to.
    fs.symlinkSync('volume-not-mounted', link);
    const r = await runCli(['migrate'], { DATA_DIR: link });
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toBe(`autotag migrate: cannot open the store (DATA_DIR: SQLite in ${link}): cannot open the SQLite store at ${path.join(link, 'autotag.db')}: ${link} is a symbolic link to ${target}, which does not exist\n`);
    expect(fs.existsSync(target)).toBe(false);
  });

  it('a broken channels file does not stop the commands that read the store: said on stderr, and they go on', async () => {
    const dataDir = path.join(dir, 'data');
    const channels = path.join(dir, 'channels.yaml');
    fs.writeFileSync(channels, 'channels:\n  - id: x\n    platfrm: line\n');
    const env = { DATA_DIR: dataDir, CHANNELS_FILE: channels };
    // migrate refuses it: it is the release phase's command, and a deploy with a broken file must stop there.
    const migrate = await runCli(['migrate'], env);
    expect([migrate.code, migrate.stdout]).toEqual([1, '']);
    expect(migrate.stderr).toMatch(/^autotag migrate: invalid configuration:\n {2}.*channels\.yaml:2:5: /);
    expect((await runCli(['migrate'], { DATA_DIR: dataDir })).code).toBe(0);
    const status = await runCli(['status', '--json'], env);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ operations: { pending: 0, dead: 0 } });
    expect(status.stderr).toMatch(/^autotag status: warning: the channels file is left out \(this command does not need it\), but `serve` refuses to start on it:\n {2}.*channels\.yaml:2:5: /);
    // BotBonnie without --account uses the environment's account (here: not configured); with it, the file is needed.
    const env2 = { CHANNELS_FILE: channels };
    const bare = await runCli(['botbonnie', 'get-tag', 't'], env2);
    expect([bare.code, bare.stderr]).toEqual([1, expect.stringMatching(/warning: the channels file is left out[\s\S]*autotag botbonnie get-tag: BOTBONNIE_TOKEN is not set/)]);
    const environments = await runCli(['botbonnie', 'get-tag', 't', '--account', 'botbonnie'], env2);
    expect([environments.code, environments.stderr]).toEqual([1, expect.stringMatching(/warning: the channels file is left out[\s\S]*BOTBONNIE_TOKEN is not set/)]);
    const named = await runCli(['botbonnie', 'get-tag', 't', '--account', 'a'], env2);
    expect([named.code, named.stderr]).toEqual([1, expect.stringMatching(/^autotag botbonnie get-tag: invalid configuration:\n {2}.*channels\.yaml:2:5: /)]);
  });

  it('migrate creates the store, after which status reports on it', async () => {
    const dataDir = path.join(dir, 'data');
    const first = await runCli(['migrate'], { DATA_DIR: dataDir });
    expect(first.code).toBe(0);
    // It says what it did: every step applied on a new store, none the second time.
    const steps = [...first.stdout.matchAll(/^store \(sqlite\): applied step (\d+) \(.+\)$/gm)].map((m) => Number(m[1]));
    expect(steps.length).toBeGreaterThan(1);
    expect(steps).toEqual(steps.map((_, i) => i + 1));
    expect(first.stdout).toContain(`store (sqlite) is up to date at schema version ${steps.length}\n`);
    const again = await runCli(['migrate'], { DATA_DIR: dataDir });
    expect(again.stdout).toBe(`store (sqlite) is up to date at schema version ${steps.length}\n`);
    expect(fs.existsSync(path.join(dataDir, 'autotag.db'))).toBe(true);
    const r = await runCli(['status', '--json'], { DATA_DIR: dataDir });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ operations: { pending: 0, dead: 0 }, forwards: { pending: 0, dead: 0 } });
  });
});

describePostgres('operator commands on a PostgreSQL schema the service never used', (url) => {
  let schema: string;
  beforeEach(() => {
    schema = newSchemaName('autotag_nostore');
  });
  afterEach(async () => dropSchema(url, schema));

  const schemaExists = async () => {
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      return (await c.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [schema])).rowCount === 1;
    } finally {
      await c.end();
    }
  };

  it.each(READING_COMMANDS)('%j refuses, says which variables to check, and creates nothing', async (args) => {
    const r = await runCli(args, { DATABASE_URL: url, DATABASE_SCHEMA: schema });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`holds no chat-autotag store in schema ${schema}, so the service has not run with this DATABASE_URL and DATABASE_SCHEMA; nothing was created`);
    expect(await schemaExists()).toBe(false);
  });

  it('migrate creates the store, after which status reports on it', async () => {
    expect((await runCli(['migrate'], { DATABASE_URL: url, DATABASE_SCHEMA: schema })).code).toBe(0);
    const r = await runCli(['status', '--json'], { DATABASE_URL: url, DATABASE_SCHEMA: schema });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ operations: { pending: 0, dead: 0 }, forwards: { pending: 0, dead: 0 } });
  });
});

describe('text from outside in what a command prints', () => {
  it('control characters (a terminal escape sequence in a tag API\'s error message) are printed visibly, not acted on; JSON escapes them', async () => {
    const dir = tempDir('autotag-controls-');
    try {
      const dataDir = path.join(dir, 'data');
      const store = createSqliteStore({ file: path.join(dataDir, 'autotag.db'), log: silentLogger() });
      await store.migrate();
      await store.accept(batch(1000, [accepted('e-controls', [tagOp({ tagId: 'tag-1' })])]));
      const [op] = await store.claimOperations({ scope: { account: 'mantago' }, limit: 1, owner: 'w', now: 1000, leaseMs: 60_000 });
      const reason = '400 from mantago: \u001b[2J\u001b]0;owned\u0007gone\rfake line \u009b2J\u007f';
      await store.deadLetterOperation(op!, 'w', 2000, { reason, status: 400 });
      await store.close();

      const text = await runCli(['dead-letters', 'list'], { DATA_DIR: dataDir });
      expect(text.code).toBe(0);
      expect(text.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
      expect(text.stdout).toContain('400 from mantago: \\x1b[2J\\x1b]0;owned\\x07gone\\x0dfake line \\u009b2J\\u007f');
      const json = await runCli(['dead-letters', 'list', '--json'], { DATA_DIR: dataDir });
      expect((JSON.parse(json.stdout) as { reason: string }[])[0]!.reason).toBe(reason);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('dead-letters retry --all warns of dead letters whose account cannot be called here (token unset, or no such account)', async () => {
    const dir = tempDir('autotag-retry-unconfigured-');
    try {
      const dataDir = path.join(dir, 'data');
      const file = path.join(dataDir, 'autotag.db');
      const store = createSqliteStore({ file, log: silentLogger() });
      await store.migrate();
      await store.accept(batch(1000, [accepted('e-1', [tagOp({ tagId: 'tag-1' }), tagOp({ tagId: 'tag-2', account: 'gone' })])]));
      await store.close();
      /** Every pending operation made a dead letter again, as the service would. */
      const deadAgain = async () => {
        const s = createSqliteStore({ file, log: silentLogger() });
        for (const op of await s.claimOperations({ scope: { accountsOtherThan: [] }, limit: 10, owner: 'w', now: Date.now(), leaseMs: 60_000 })) {
          await s.deadLetterOperation(op, 'w', Date.now(), { reason: 'MANTAGO_TOKEN is not set' });
        }
        await s.close();
      };
      await deadAgain();
      const r = await runCli(['dead-letters', 'retry', '--all'], { DATA_DIR: dataDir });
      expect([r.code, r.stdout]).toEqual([0, 'queued 2 dead letters again\n']);
      expect(r.stderr).toBe(
        'autotag dead-letters retry: warning: 1 of them is for account gone, which neither the environment nor the channels file declares: they will be dead letters again\n' +
          'autotag dead-letters retry: warning: 1 of them is for account mantago, whose token (MANTAGO_TOKEN) is not set: they will be dead letters again until it is\n',
      );
      // With the token set, only the account no one declares is warned of.
      await deadAgain();
      const again = await runCli(['dead-letters', 'retry', '--all'], { DATA_DIR: dataDir, MANTAGO_TOKEN: 't', MANTAGO_SECRET: 's', MANTAGO_BOT_ID: '1' });
      expect(again).toMatchObject({
        code: 0,
        stdout: 'queued 2 dead letters again\n',
        stderr: 'autotag dead-letters retry: warning: 1 of them is for account gone, which neither the environment nor the channels file declares: they will be dead letters again\n',
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('dead-letters retry by id warns, as --all does, of the letters it queued whose account cannot be called here', async () => {
    const dir = tempDir('autotag-retry-id-unconfigured-');
    try {
      const dataDir = path.join(dir, 'data');
      const file = path.join(dataDir, 'autotag.db');
      const store = createSqliteStore({ file, log: silentLogger() });
      await store.migrate();
      await store.accept(batch(1000, [accepted('e-1', [tagOp({ tagId: 'tag-1' }), tagOp({ tagId: 'tag-2', account: 'gone' }), tagOp({ tagId: 'tag-3', account: 'gone' })])]));
      for (const op of await store.claimOperations({ scope: { accountsOtherThan: [] }, limit: 10, owner: 'w', now: 2000, leaseMs: 60_000 })) {
        await store.deadLetterOperation(op, 'w', 2000, { reason: 'no account' });
      }
      const ids = new Map((await store.listDeadLetters()).map((d) => [d.operation!.tagId, d.id]));
      expect(await store.deadOperationAccounts([ids.get('tag-2')!, ids.get('tag-1')!, 'op-999999', 'fwd-1'])).toEqual(
        new Map([
          [ids.get('tag-2')!, 'gone'],
          [ids.get('tag-1')!, 'mantago'],
        ]),
      );
      await store.close();

      const r = await runCli(['dead-letters', 'retry', ids.get('tag-2')!, ids.get('tag-3')!], { DATA_DIR: dataDir, MANTAGO_TOKEN: 't', MANTAGO_SECRET: 's', MANTAGO_BOT_ID: '1' });
      expect(r).toMatchObject({
        code: 0,
        stdout: 'queued 2 dead letters again\n',
        stderr: 'autotag dead-letters retry: warning: 2 of them are for account gone, which neither the environment nor the channels file declares: they will be dead letters again\n',
      });
      // A letter of an account that can be called: nothing to warn of.
      const ok = await runCli(['dead-letters', 'retry', ids.get('tag-1')!], { DATA_DIR: dataDir, MANTAGO_TOKEN: 't', MANTAGO_SECRET: 's', MANTAGO_BOT_ID: '1' });
      expect(ok).toMatchObject({ code: 0, stdout: 'queued 1 dead letter again\n', stderr: '' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('dead-letters retry warns of dead forwards whose destination is no longer configured (by id and with --all), not of those it still forwards to', async () => {
    const dir = tempDir('autotag-retry-unconfigured-forwards-');
    try {
      const dataDir = path.join(dir, 'data');
      const file = path.join(dataDir, 'autotag.db');
      const kept = 'http://kept.test/hook';
      const gone = 'https://user:secret@gone.test/hook?token=abc';
      const store = createSqliteStore({ file, log: silentLogger() });
      await store.migrate();
      await store.accept(batch(1000, [], [forwardTo(gone, 'U1'), forwardTo(gone, 'U2'), forwardTo(kept, 'U3')]));
      for (const destination of [gone, kept]) {
        for (const f of await store.claimForwards({ destinations: [destination], limit: 10, owner: 'w', now: 2000, leaseMs: 60_000 })) {
          await store.deadLetterForward(f, 'w', 2000, { reason: 'gave up' });
        }
      }
      const ids = (await store.listDeadLetters()).map((d) => ({ id: d.id, destination: d.forward!.destination }));
      const goneIds = ids.filter((d) => d.destination === gone).map((d) => d.id);
      const keptId = ids.find((d) => d.destination === kept)!.id;
      expect(goneIds).toHaveLength(2);
      await store.close();
      const env = { DATA_DIR: dataDir, LINE_CHANNEL_SECRET: 'line-secret', LINE_FORWARD_URLS: kept };

      const one = await runCli(['dead-letters', 'retry', goneIds[0]!, keptId], env);
      expect(one).toMatchObject({ code: 0, stdout: 'queued 2 dead letters again\n' });
      expect(one.stderr).toMatch(/^autotag dead-letters retry: warning: 1 of them is a forward to https:\/\/gone\.test\/hook\b.*, which is no longer configured \(LINE_FORWARD_URLS, .*\): it is not sent, and the service keeps it as dead letters again when it next starts\n$/);
      expect(one.stderr).not.toContain('secret');
      expect(one.stderr).not.toContain('token=abc');
      // Still configured: nothing to say.
      const store2 = createSqliteStore({ file, log: silentLogger() });
      for (const f of await store2.claimForwards({ destinations: [kept], limit: 10, owner: 'w', now: Date.now() + 1000, leaseMs: 60_000 })) await store2.deadLetterForward(f, 'w', Date.now(), { reason: 'gave up' });
      await store2.close();
      const keptOnly = await runCli(['dead-letters', 'retry', keptId], env);
      expect(keptOnly).toMatchObject({ code: 0, stdout: 'queued 1 dead letter again\n', stderr: '' });

      // --all: the other forward to the removed destination, still dead.
      const all = await runCli(['dead-letters', 'retry', '--all'], env);
      expect(all).toMatchObject({ code: 0, stdout: 'queued 1 dead letter again\n' });
      expect(all.stderr).toMatch(/^autotag dead-letters retry: warning: 1 of them is a forward to https:\/\/gone\.test\/hook\b[^\n]*no longer configured[^\n]*\n$/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('dead-letters discard removes dead letters for good (by id, --all), their forward bodies with them; an unknown id is an error naming it', async () => {
    const dir = tempDir('autotag-discard-');
    try {
      const dataDir = path.join(dir, 'data');
      const file = path.join(dataDir, 'autotag.db');
      const store = createSqliteStore({ file, log: silentLogger() });
      await store.migrate();
      await store.accept(batch(1000, [accepted('e-1', [tagOp({ tagId: 'tag-1' }), tagOp({ tagId: 'tag-2' })])], [forwardTo('http://gone.test/hook', 'U1', Buffer.from('{"a":1}'))]));
      for (const op of await store.claimOperations({ scope: { accountsOtherThan: [] }, limit: 10, owner: 'w', now: 2000, leaseMs: 60_000 })) await store.deadLetterOperation(op, 'w', 2000, { reason: 'gave up' });
      for (const f of await store.claimForwards({ limit: 10, owner: 'w', now: 2000, leaseMs: 60_000 })) await store.deadLetterForward(f, 'w', 2000, { reason: 'gave up' });
      const ids = (await store.listDeadLetters()).map((d) => d.id);
      expect(ids).toHaveLength(3);
      await store.close();
      const env = { DATA_DIR: dataDir };
      const bodies = () => {
        const raw = new Database(file, { readonly: true });
        try {
          return (raw.prepare('SELECT COUNT(*) AS n FROM forward_bodies').get() as { n: number }).n;
        } finally {
          raw.close();
        }
      };
      expect(bodies()).toBe(1);

      const [fwd] = ids.filter((id) => id.startsWith('fwd-'));
      const [op1, op2] = ids.filter((id) => id.startsWith('op-'));
      const byId = await runCli(['dead-letters', 'discard', fwd!, op1!], env);
      expect(byId).toMatchObject({ code: 0, stdout: 'discarded 2 dead letters\n', stderr: '' });
      expect(bodies()).toBe(0);
      const again = await runCli(['dead-letters', 'discard', op1!, op2!], env);
      expect(again).toMatchObject({ code: 1, stdout: '', stderr: `autotag dead-letters discard: discarded 1 (${op2}); no dead letter with id ${op1}\n` });
      expect(await runCli(['dead-letters', 'discard'], env)).toMatchObject({ code: 1, stderr: expect.stringMatching(/give --all or one or more ids/) });
      expect(await runCli(['dead-letters', 'discard', 'op-02'], env)).toMatchObject({ code: 1, stderr: expect.stringMatching(/not a dead-letter id: "op-02"/) });
      expect(await runCli(['dead-letters', 'discard', '--all'], env)).toMatchObject({ code: 0, stdout: 'discarded 0 dead letters\n' });
      expect(await runCli(['dead-letters', 'list'], env)).toMatchObject({ code: 0, stdout: 'no dead letters\n' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a tag name from BotBonnie holding an escape sequence is printed visibly by `botbonnie get-tag`', async () => {
    const fake = await startFakeBotbonnie({ token: 'bb-controls', botId: 'bot-controls' });
    try {
      fake.addTag({ id: 'esc', name: 'evil\u001b]0;pwned\u0007\u001b[2J' });
      const shown = await runCli(['botbonnie', 'get-tag', 'esc'], { BOTBONNIE_BASE_URL: fake.baseUrl, BOTBONNIE_TOKEN: 'bb-controls', BOTBONNIE_BOT_ID: 'bot-controls' });
      expect(shown.code).toBe(0);
      expect(shown.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
      expect(shown.stdout).toContain('name: evil\\x1b]0;pwned\\x07\\x1b[2J\n');
      // DEL and the C1 controls (CSI is U+009B), which JSON.stringify leaves raw: visible in text, and --json still parses to the name.
      const c1 = 'a\u009b2Jb\u007fc';
      fake.addTag({ id: 'c1', name: c1 });
      const env = { BOTBONNIE_BASE_URL: fake.baseUrl, BOTBONNIE_TOKEN: 'bb-controls', BOTBONNIE_BOT_ID: 'bot-controls' };
      const text = await runCli(['botbonnie', 'get-tag', 'c1'], env);
      expect(text.stdout).toContain('name: a\\u009b2Jb\\u007fc\n');
      const json = await runCli(['botbonnie', 'get-tag', 'c1', '--json'], env);
      expect(json.stdout).not.toMatch(/[\u007f-\u009f]/);
      expect((JSON.parse(json.stdout) as { name: string }).name).toBe(c1);
    } finally {
      await fake.close();
    }
  });
});

describe('autotag --version and --help', () => {
  const version = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

  it('--version and -V print the package version', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag]);
      expect(r).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    }
  });

  it('--help finishes and lists the commands', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['serve', 'validate', 'test', 'status', 'dead-letters', 'history', 'migrate']) expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
  });

  it('status --help names everything status prints, the running lifetimes too', async () => {
    const r = await runCli(['status', '--help']);
    expect(r.code).toBe(0);
    const text = r.stdout.replace(/\s+/g, ' ');
    for (const part of ['oldest pending age', 'by channel and by account', 'lifetime (for:) running']) expect(text).toContain(part);
  });

  it('building the command line loads no driver, validator, logger or YAML parser (what made --help slow)', async () => {
    const script = `require(${JSON.stringify(path.join(ROOT, 'dist/cli.js'))}).buildProgram();
      process.stdout.write(JSON.stringify(Object.keys(require.cache)));`;
    const { stdout } = await run(process.execPath, ['-e', script], { cwd: ROOT });
    const packages = new Set((JSON.parse(stdout) as string[]).filter((f) => f.includes('node_modules')).map((f) => f.split('node_modules/')[1]!.split('/')[0]));
    expect([...packages]).toEqual(['commander']);
  });
});
