import { spawn } from 'node:child_process';
import path from 'node:path';
import { DEAD_LETTERS_PAGE, runDeadLettersList } from '../../src/cli/dead-letters';
import type { DeadLetter } from '../../src/store/store';
import { startHarness, type Harness } from '../helpers/app-harness';
import { describeEachEngine } from '../helpers/engines';
import { accepted, batch, forwardTo, tagOp } from '../store/builders';
import { bufferIo, ROOT, runCli } from './cli-run';

/** More than one page of the listing, and more than the 100 it used to stop at. */
const OPERATIONS = DEAD_LETTERS_PAGE + 50;
const FORWARDS = 4;
const TOTAL = OPERATIONS + FORWARDS;

/** The table's rows: the lines after the header and its rule, without a closing note. */
const rowsOf = (text: string) =>
  text
    .split('\n')
    .slice(2)
    .filter((l) => l !== '' && !l.startsWith('('));

describeEachEngine('autotag dead-letters on a store with more dead letters than one page', (on) => {
  let h: Harness;
  let env: Record<string, string>;

  let expected: string[];

  beforeAll(async () => {
    h = await startHarness({}, undefined, on);
    env = on.engine === 'postgres' ? { DATABASE_URL: on.url, DATABASE_SCHEMA: h.schema ?? '' } : { DATA_DIR: h.dataDir };
    await fill();
    expected = (await h.store.listDeadLetters(TOTAL + 1)).map((d) => d.id);
    expect(expected).toHaveLength(TOTAL);
  }, 60_000);
  afterAll(async () => h.cleanup());

  /** OPERATIONS dead operations and FORWARDS dead forwards, dead at a handful of times (ties within and across the two tables). */
  async function fill(): Promise<void> {
    const ops = Array.from({ length: OPERATIONS }, (_, i) => tagOp({ tagId: `tag-${i}` }));
    await h.store.accept(batch(1000, [accepted(`many-${Date.now()}`, ops)], ['U1', 'U2', 'U3', 'U4'].map((key) => forwardTo('http://a.test/hook', key))));
    const claimed = await h.store.claimOperations({ scope: { account: 'mantago' }, limit: OPERATIONS, owner: 'w', now: 1000, leaseMs: 60_000 });
    expect(claimed).toHaveLength(OPERATIONS);
    for (const [i, op] of claimed.entries()) await h.store.deadLetterOperation(op, 'w', 2000 + (i % 5) * 100, { reason: `400 from mantago: bad tag ${i}`, status: 400 });
    const forwards = await h.store.claimForwards({ owner: 'w', now: 1000, limit: FORWARDS, leaseMs: 60_000 });
    for (const f of forwards) await h.store.deadLetterForward(f, 'w', 2200, { reason: 'no success within FORWARD_GIVE_UP_MS' });
    const status = await h.store.status(3000);
    expect(status.operations.dead + status.forwards.dead).toBe(TOTAL);
  }

  it('lists every dead letter, newest first, as text and as one JSON array', async () => {
    const text = await runCli(['dead-letters', 'list'], env);
    expect(text.code).toBe(0);
    expect(text.stderr).toBe('');
    expect(text.stdout.split('\n')[0]).toMatch(/^id\s+since\s+what\s+status\s+reason$/);
    expect(rowsOf(text.stdout).map((l) => l.split(' ')[0])).toEqual(expected);
    expect(text.stdout).not.toContain('showing');

    const json = await runCli(['dead-letters', 'list', '--json'], env);
    expect(json.code).toBe(0);
    expect(json.stderr).toBe('');
    const letters = JSON.parse(json.stdout) as DeadLetter[];
    expect(letters.map((d) => d.id)).toEqual(expected);
    expect(letters.find((d) => d.type === 'forward')).toMatchObject({ reason: 'no success within FORWARD_GIVE_UP_MS', forward: { destination: 'http://a.test/hook' } });
  });

  it('--limit N shows the newest N and says how many there are in all', async () => {

    const fewer = await runCli(['dead-letters', 'list', '--limit', '10'], env);
    expect(fewer.code).toBe(0);
    expect(rowsOf(fewer.stdout).map((l) => l.split(' ')[0])).toEqual(expected.slice(0, 10));
    expect(fewer.stdout.endsWith(`(showing the newest 10 of ${TOTAL} dead letters; leave out --limit to list them all)\n`)).toBe(true);

    // Past one page, and --json: stdout stays one JSON array, the note goes to stderr.
    const limit = DEAD_LETTERS_PAGE + 1;
    const fewerJson = await runCli(['dead-letters', 'list', '--json', '--limit', String(limit)], env);
    expect(fewerJson.code).toBe(0);
    expect((JSON.parse(fewerJson.stdout) as DeadLetter[]).map((d) => d.id)).toEqual(expected.slice(0, limit));
    expect(fewerJson.stderr).toBe(`(showing the newest ${limit} of ${TOTAL} dead letters; leave out --limit to list them all)\n`);

    // A limit that leaves nothing out says nothing more.
    const exact = await runCli(['dead-letters', 'list', '--limit', String(TOTAL)], env);
    expect(rowsOf(exact.stdout)).toHaveLength(TOTAL);
    expect(exact.stdout).not.toContain('showing');

    const bad = await runCli(['dead-letters', 'list', '--limit', '0'], env);
    expect(bad).toEqual({ code: 1, stdout: '', stderr: 'autotag dead-letters list: --limit must be a whole number ≥ 1, got "0"\n' });
    // The other spellings in the process (refused before the store is opened): digits only.
    for (const spelling of ['ten', '0x10', '1e1', '2.0', ' 2']) {
      const io = bufferIo();
      expect(await runDeadLettersList({ limit: spelling }, env, io)).toBe(1);
      expect([io.out, io.err]).toEqual(['', `autotag dead-letters list: --limit must be a whole number ≥ 1, got ${JSON.stringify(spelling)}\n`]);
    }

  });

  it('stops quietly, exit 0, when its reader goes away (| head)', async () => {
    for (const args of [['dead-letters', 'list'], ['dead-letters', 'list', '--json']]) {
      const child = spawn(process.execPath, [path.join(ROOT, 'dist/cli.js'), ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env } });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => void (stderr += c.toString()));
      // Read the first chunk, then close the pipe as `head -c` does.
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      child.stdout.destroy();
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      expect([args.join(' '), code, stderr]).toEqual([args.join(' '), 0, '']);
    }
  });

  it('retry by id finds a letter beyond the first page; retry --all queues every one, not one page', async () => {
    // retry by id finds a letter beyond the first page, and names an id that is not one.
    const deep = expected[TOTAL - 1]!;
    // An id the store would refuse (a leading zero) is refused before any is queued: the good one stays dead.
    const refused = await runCli(['dead-letters', 'retry', deep, 'op-01'], env);
    expect(refused).toMatchObject({ code: 1, stdout: '', stderr: 'autotag dead-letters retry: not a dead-letter id: "op-01" (ids look like op-12 or fwd-3, as `dead-letters list` shows them)\n' });
    expect((await runCli(['dead-letters', 'list'], env)).stdout).toContain(deep);
    const one = await runCli(['dead-letters', 'retry', deep, 'op-999999'], env);
    expect(one.code).toBe(1);
    // A failure leaves stdout empty; the id that was queued is said with the error.
    expect(one.stdout).toBe('');
    // The one queued is of an account whose token this environment does not set: said as well.
    expect(one.stderr).toBe(
      `autotag dead-letters retry: queued 1 again (${deep}); no dead letter with id op-999999\n` +
        'autotag dead-letters retry: warning: 1 of them is for account mantago, whose token (MANTAGO_TOKEN) is not set: they will be dead letters again until it is\n',
    );

    // retry --all queues every one of them, not one page.
    const all = await runCli(['dead-letters', 'retry', '--all'], env);
    expect(all).toMatchObject({ code: 0, stdout: `queued ${TOTAL - 1} dead letters again\n` });
    const status = await h.store.status(3000);
    expect([status.operations.dead, status.forwards.dead]).toEqual([0, 0]);
    expect((await runCli(['dead-letters', 'list'], env)).stdout).toBe('no dead letters\n');
    expect((await runCli(['dead-letters', 'list', '--json'], env)).stdout).toBe('[]\n');
  });
});
