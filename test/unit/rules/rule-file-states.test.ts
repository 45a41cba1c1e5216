import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RuleFileStates, type FileStat } from '../../../src/rules/rule-file-states';

/*
 * RuleFileStates on real files, with the stats and the clock in the test's hands: stats that
 * stay the same however the file changes (a file system whose times are too coarse), and a
 * monotonic clock that moves only when the test moves it.
 */
describe('RuleFileStates', () => {
  let dir: string;
  let a: string;
  let b: string;
  let now: number;
  const stats = new Map<string, FileStat>();
  const states = () =>
    new RuleFileStates({ racyMs: 3000, now: () => now, stat: async (f) => (fs.existsSync(f) ? stats.get(f) ?? { size: 1, mtimeMs: 1, ctimeMs: 1, ino: 1 } : undefined) });
  const list = async () => [a, b].filter((f) => fs.existsSync(f));

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rule-file-states-'));
    a = path.join(dir, 'a.yaml');
    b = path.join(dir, 'b.yaml');
    fs.writeFileSync(a, 'rules: []\n');
    now = 1000;
    stats.clear();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('the first check differs; nothing changed: no difference', async () => {
    const s = states();
    expect(await s.changed(list, false)).toBe(true);
    expect(await s.changed(list, false)).toBe(false);
  });

  it('same stats, new bytes: seen at a poll within racyMs of the stats first being seen, not after; always after a notification', async () => {
    const s = states();
    await s.changed(list, false);
    now += 2999;
    fs.writeFileSync(a, 'rules: [1]\n');
    expect(await s.changed(list, false)).toBe(true);
    now += 1; // 3000 ms since these stats were first seen: the window is over
    fs.writeFileSync(a, 'rules: [2]\n');
    expect(await s.changed(list, false)).toBe(false);
    expect(await s.changed(list, true)).toBe(true);
    expect(await s.changed(list, true)).toBe(false);
  });

  it('new stats open a new window; new stats with the same bytes (touch, chmod) are no change', async () => {
    const s = states();
    await s.changed(list, false);
    now += 10_000;
    stats.set(a, { size: 1, mtimeMs: 2, ctimeMs: 2, ino: 1 });
    expect(await s.changed(list, false)).toBe(false);
    now += 1000;
    fs.writeFileSync(a, 'rules: [3]\n');
    expect(await s.changed(list, false)).toBe(true);
  });

  it('a file added or removed differs; a listing that fails differs once per error, and again when it recovers', async () => {
    const s = states();
    await s.changed(list, false);
    fs.writeFileSync(b, 'rules: []\n');
    expect(await s.changed(list, false)).toBe(true);
    fs.rmSync(b);
    expect(await s.changed(list, false)).toBe(true);
    const failing = async (): Promise<string[]> => {
      throw new Error('EACCES: permission denied');
    };
    expect(await s.changed(failing, false)).toBe(true);
    expect(await s.changed(failing, false)).toBe(false);
    expect(await s.changed(list, false)).toBe(true);
  });
});
