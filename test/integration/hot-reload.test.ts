import fs from 'node:fs';
import path from 'node:path';
import { evaluate, loadRuleSet } from '../../src/rules';
import { reloadOutcome, RulesHolder, watchRules, type RuleChanges, type WatchOptions } from '../../src/rules/watch-rules';
import type { StatFile } from '../../src/rules/rule-file-states';
import { LogLines, tempDir } from '../helpers/app-harness';
import { createLogger } from '../../src/log';

const V1 = `
defaults: { provider: mantago }
rules:
  - id: coupon
    when: { text: { contains: coupon } }
    then: [ { add_tag: tag-coupon } ]
  - id: old-rule
    when: { text: { equals: old } }
    then: [ { add_tag: tag-old } ]
`;

const V2 = `
defaults: { provider: mantago }
rules:
  - id: coupon
    when: { text: { contains: [coupon, 優惠券] } }
    then: [ { add_tag: tag-coupon } ]
  - id: new-rule
    when: { text: { equals: new } }
    then: [ { add_tag: tag-new } ]
`;

const BROKEN = `
defaults: { provider: mantago }
rules:
  - id: coupon
    when: { text: { contians: coupon } }
    then: [ { add_tag: tag-coupon } ]
`;

type Reload = { applied: boolean; changes?: RuleChanges; problems?: string[] };

describe('hot reload of rule files', () => {
  let dir: string;
  let file: string;
  let holder: RulesHolder;
  let logs: LogLines;
  let watcher: ReturnType<typeof watchRules>;
  const reloads: Reload[] = [];
  let waiters: (() => void)[] = [];

  const nextReload = (pred: (r: Reload) => boolean) =>
    new Promise<Reload>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching reload within 6 s; saw ${JSON.stringify(reloads)}`)), 6000);
      const check = () => {
        const hit = reloads.find(pred);
        if (!hit) return;
        clearTimeout(timer);
        waiters = waiters.filter((w) => w !== check);
        resolve(hit);
      };
      waiters.push(check);
      check();
    });

  beforeEach(async () => {
    reloads.length = 0;
    dir = tempDir('autotag-reload-');
    file = path.join(dir, 'rules.yaml');
    fs.writeFileSync(file, V1);
    const loaded = await loadRuleSet(dir);
    holder = new RulesHolder(loaded.ruleSet!);
    logs = new LogLines();
    watcher = watchRules({
      dir,
      holder,
      log: createLogger({ stream: logs.stream, level: 'debug' }),
      pollMs: 200,
      debounceMs: 50,
      onReload: (r) => {
        reloads.push(r);
        for (const w of [...waiters]) w();
      },
    });
    // the first check re-reads what is in force, without changes: not a reload for the metric
    const first = await nextReload((r) => r.applied);
    expect(reloadOutcome(first)).toBeUndefined();
    reloads.length = 0;
  });

  afterEach(() => {
    watcher.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const textEvent = (text: string) => ({ platform: 'line' as const, kind: 'message' as const, text, timestamp: Date.now() });

  it('applies a valid change and logs which rule ids were added, changed and removed', async () => {
    const before = holder.current();
    fs.writeFileSync(file, V2);
    const r = await nextReload((x) => x.applied);
    expect(r.changes).toEqual({ added: ['new-rule'], changed: ['coupon'], removed: ['old-rule'] });
    expect(reloadOutcome(r)).toBe('applied');
    expect(holder.current()).not.toBe(before);
    expect(evaluate(holder.current(), textEvent('我要優惠券')).matched).toEqual(['coupon']);
    expect(evaluate(holder.current(), textEvent('old')).matched).toEqual([]);
    const line = logs.parsed().find((l) => l.message === 'rules reloaded');
    expect(line).toMatchObject({ added: ['new-rule'], changed: ['coupon'], removed: ['old-rule'] });
  });

  it('rejects an invalid change, keeps the last good set and logs FILE:LINE:COLUMN', async () => {
    const before = holder.current();
    fs.writeFileSync(file, BROKEN);
    const r = await nextReload((x) => !x.applied);
    expect(reloadOutcome(r)).toBe('rejected');
    expect(holder.current()).toBe(before);
    expect(evaluate(holder.current(), textEvent('old')).matched).toEqual(['old-rule']);
    const rel = path.relative(process.cwd(), file);
    expect(r.problems?.[0]).toMatch(new RegExp(`^${rel.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:5:21: .*contians`));
    expect(holder.rejected()).toMatch(/contians/);
    const line = logs.parsed().find((l) => l.message === 'rule change rejected: the last valid rules stay in force');
    expect(JSON.stringify(line)).toContain(`${rel}:5:21`);

    // fixing the file brings it back
    fs.writeFileSync(file, V2);
    await nextReload((x) => x.applied);
    expect(holder.rejected()).toBeUndefined();
    expect(evaluate(holder.current(), textEvent('new')).matched).toEqual(['new-rule']);
  });

  it('says at info level when a refused edit is undone (the rules in force unchanged), so the log does not end on "rejected"', async () => {
    fs.writeFileSync(file, BROKEN);
    await nextReload((x) => !x.applied);
    fs.writeFileSync(file, V1);
    const r = await nextReload((x) => x.applied);
    expect(r.changes).toEqual({ added: [], changed: [], removed: [] });
    expect(holder.rejected()).toBeUndefined();
    // (A poll may catch a write half-done and add a line before; the last one is what counts.)
    const lines = logs.parsed().filter((l) => l.level !== 'debug').map((l) => [l.level, l.message]);
    expect(lines[0]).toEqual(['error', 'rule change rejected: the last valid rules stay in force']);
    expect(lines[lines.length - 1]).toEqual(['info', 'rule files valid again: the rules in force are unchanged']);
  });

  it('notices a new file in a subfolder and a deleted file', async () => {
    fs.mkdirSync(path.join(dir, 'campaigns'));
    fs.writeFileSync(path.join(dir, 'campaigns', 'x.yml'), 'rules:\n  - id: extra\n    when: { event: follow }\n    then: [ { add_tag: t, provider: botbonnie } ]\n');
    const r = await nextReload((x) => x.applied && (x.changes?.added.includes('extra') ?? false));
    expect(r.changes?.added).toEqual(['extra']);
    fs.rmSync(path.join(dir, 'campaigns', 'x.yml'));
    const gone = await nextReload((x) => x.applied && (x.changes?.removed.includes('extra') ?? false));
    expect(gone.changes?.removed).toEqual(['extra']);
  });
});

describe('hot reload and failing rule examples', () => {
  const failing = (extra: string) => `
defaults: { provider: mantago }
rules:
  - id: coupon
    when: { text: { contains: coupon } }
    then: [ { add_tag: tag-coupon } ]
    examples:
      - { text: hello, expect: match }${extra}
`;

  it('logs a failing example once — not again at the first check after start, nor at a reload that still finds it — and a new one when it appears', async () => {
    const dir = tempDir('autotag-reload-examples-');
    const file = path.join(dir, 'rules.yaml');
    fs.writeFileSync(file, failing(''));
    const loaded = await loadRuleSet(dir);
    expect(loaded.exampleFailures).toHaveLength(1);
    const logs = new LogLines();
    const reloads: Reload[] = [];
    const watcher = watchRules({
      dir,
      holder: new RulesHolder(loaded.ruleSet!),
      log: createLogger({ stream: logs.stream, level: 'debug' }),
      pollMs: 100,
      debounceMs: 20,
      loggedExampleFailures: loaded.exampleFailures,
      onReload: (r) => reloads.push(r),
    });
    const waitForReloads = async (n: number) => {
      const deadline = Date.now() + 6000;
      while (reloads.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(reloads).toHaveLength(n);
    };
    const warned = () => logs.parsed().filter((l) => l.message === 'rule example does not hold').map((l) => String(l.problem));
    try {
      await waitForReloads(1);
      expect(warned()).toEqual([]);
      fs.writeFileSync(file, failing('\n      - { text: bye, expect: match }'));
      await waitForReloads(2);
      expect(warned()).toHaveLength(1);
      expect(warned()[0]).toMatch(/rules\.yaml:9:\d+: .*bye/);
    } finally {
      watcher.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('hot reload when a change leaves the file\'s stats as they were', () => {
  // Same length: only the content tells them apart.
  const A = 'defaults: { provider: mantago }\nrules:\n  - id: same\n    when: { text: { contains: aaa1 } }\n    then: [ { add_tag: t } ]\n';
  const B = A.replace('aaa1', 'bbb1');
  let dir: string;
  let file: string;
  let watcher: ReturnType<typeof watchRules> | undefined;
  /** A file system whose stats tell only the size (times kept too coarsely to differ, no inode change). */
  const sizeOnly: StatFile = async (f) => ({ size: fs.statSync(f).size, mtimeMs: 0, ctimeMs: 0, ino: 0 });

  const start = async (opts: Pick<WatchOptions, 'pollMs' | 'files' | 'watch'>) => {
    const loaded = await loadRuleSet(dir);
    const holder = new RulesHolder(loaded.ruleSet!);
    const reloads: Reload[] = [];
    let heard: (() => void) | undefined;
    watcher = watchRules({
      dir, holder, log: createLogger({ silent: true }), debounceMs: 50, ...opts,
      onReload: (r) => {
        reloads.push(r);
        heard?.();
      },
    });
    await watcher.check(); // the first check: reads what is in force
    expect(reloads).toEqual([{ applied: true, changes: { added: [], changed: [], removed: [] } }]);
    /** The reloads after the first check, as soon as there is one (none after 5 s). */
    const later = () =>
      new Promise<Reload[]>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          resolve(reloads.slice(1));
        };
        const timer = setTimeout(done, 5000);
        heard = () => reloads.length > 1 && done();
        heard();
      });
    const matchedBbb = () => evaluate(holder.current(), { platform: 'line', kind: 'message', text: 'bbb1', timestamp: Date.now() }).matched;
    return { later, matchedBbb };
  };
  const changedSame = [{ applied: true, changes: { added: [], changed: ['same'], removed: [] } }];

  beforeEach(() => {
    dir = tempDir('autotag-reload-same-');
    file = path.join(dir, 'rules.yaml');
    fs.writeFileSync(file, A);
  });

  afterEach(() => {
    watcher?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('compares every file by content after a change notification', async () => {
    // No poll during the test, no content comparison by age: only the notification can find it.
    const { later, matchedBbb } = await start({ pollMs: 60_000, files: { racyMs: 0, stat: sizeOnly } });
    fs.writeFileSync(file, B);
    expect(await later()).toEqual(changedSame);
    expect(matchedBbb()).toEqual(['same']);
  });

  it('without notifications, compares a file by content at each poll for racyMs after its stat was first seen (a second save within the same second)', async () => {
    const { later, matchedBbb } = await start({ pollMs: 100, watch: false, files: { stat: sizeOnly } });
    fs.writeFileSync(file, B);
    expect(await later()).toEqual(changedSame);
    expect(matchedBbb()).toEqual(['same']);
  });

  it('without notifications, sees a copy that kept the old mtime and size (cp -p) by its ctime', async () => {
    const old = Math.floor(Date.now() / 1000) - 3600;
    fs.utimesSync(file, old, old);
    const { later, matchedBbb } = await start({ pollMs: 100, watch: false, files: { racyMs: 0 } });
    // Where ctime moves once per kernel tick (before Linux 6.13), the copy must land in a later tick than the stat seen.
    const seenCtime = fs.statSync(file).ctimeMs;
    for (;;) {
      fs.writeFileSync(file, B);
      fs.utimesSync(file, old, old);
      if (fs.statSync(file).ctimeMs !== seenCtime) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(fs.statSync(file)).toMatchObject({ mtimeMs: old * 1000, size: A.length });
    expect(await later()).toEqual(changedSame);
    expect(matchedBbb()).toEqual(['same']);
  });
});

describe('hot reload when a rule file cannot be read for a moment', () => {
  const A = 'defaults: { provider: mantago }\nrules:\n  - id: r\n    when: { text: { contains: aaa } }\n    then: [ { add_tag: t } ]\n';
  const B = A.replace('aaa', 'bbb');
  let dir: string;
  let file: string;
  let watcher: ReturnType<typeof watchRules> | undefined;

  beforeEach(() => {
    dir = tempDir('autotag-reload-unreadable-');
    file = path.join(dir, 'rules.yaml');
    fs.writeFileSync(file, A);
  });

  afterEach(() => {
    watcher?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /**
   * A watcher whose reads go through `load`, polling every 100 ms without notifications; its stats
   * and content stay as they are once B is written, so only a reload tried again can apply B.
   */
  const start = async (load: NonNullable<WatchOptions['load']>) => {
    const holder = new RulesHolder((await loadRuleSet(dir)).ruleSet!);
    const logs = new LogLines();
    const reloads: Reload[] = [];
    watcher = watchRules({ dir, holder, log: createLogger({ stream: logs.stream, level: 'info' }), pollMs: 100, watch: false, load, onReload: (r) => reloads.push(r) });
    await watcher.check(); // the first check: reads what is in force
    reloads.length = 0;
    const matched = (text: string) => evaluate(holder.current(), { platform: 'line', kind: 'message', text, timestamp: Date.now() }).matched;
    /** Until `done` holds, checking at each poll (5 s at most). */
    const until = async (done: () => boolean) => {
      for (let i = 0; i < 100 && !done(); i++) await new Promise((r) => setTimeout(r, 50));
    };
    return { holder, logs, reloads, matched, until };
  };
  /** What loadRuleSet gives when a file's read fails (EIO from a network mount, EMFILE). */
  const eio = (): Awaited<ReturnType<typeof loadRuleSet>> => ({
    problems: [{ file: path.relative(process.cwd(), file), line: 1, column: 1, message: 'cannot read the file: EIO: i/o error, read' }],
    exampleFailures: [],
    warnings: [],
    files: [path.relative(process.cwd(), file)],
    unreadable: true,
  });

  it('reads the files again after a read error, though they did not change, and applies them once they read', async () => {
    let failing = 0;
    const { holder, logs, reloads, matched, until } = await start(async (d, o) => (failing-- > 0 ? eio() : loadRuleSet(d, o)));
    failing = 3; // the edit's reload and the next two tries fail (after 100 and 200 ms)
    fs.writeFileSync(file, B);
    await until(() => reloads.some((r) => r.applied));
    // One refusal counted and logged at error level (the checks that found it again: debug), then B in force.
    expect(reloads.map((r) => r.applied)).toEqual([false, true]);
    expect(reloads[0]!.problems).toEqual([expect.stringMatching(/rules\.yaml:1:1: cannot read the file: EIO/)]);
    expect(logs.parsed().filter((l) => l.message === 'rule change rejected: the last valid rules stay in force')).toHaveLength(1);
    expect(holder.rejected()).toBeUndefined();
    expect(matched('bbb')).toEqual(['r']);
  });

  it('reads a file that stays unreadable less and less often: the poll interval, then twice as long each time (a minute at most)', async () => {
    const loads: number[] = [];
    let unreadable = false;
    const { reloads, until } = await start(async (d, o) => {
      if (!unreadable) return loadRuleSet(d, o);
      loads.push(performance.now());
      return eio();
    });
    unreadable = true;
    fs.writeFileSync(file, B);
    await until(() => reloads.length > 0);
    const first = loads.length;
    await new Promise((r) => setTimeout(r, 2000));
    // After the edit's read: tries about 100, 300, 700 and 1,500 ms later (each on the first 100 ms poll
    // after its time); at every poll it would be about 20.
    const tries = loads.slice(first);
    expect(tries.length).toBeGreaterThanOrEqual(2);
    expect(tries.length).toBeLessThanOrEqual(5);
    // Each wait at least twice the one before (the first try waited the poll interval, 100 ms).
    const gaps = tries.slice(1).map((t, i) => t - tries[i]!);
    expect(gaps.map((gap, i) => [Math.round(gap), gap >= 200 * 2 ** i - 5])).toEqual(gaps.map((gap) => [Math.round(gap), true]));
    // Logged and counted once.
    expect(reloads).toHaveLength(1);
  });

  it('a refusal that is not a read error is not read again until the files change', async () => {
    let loads = 0;
    const { reloads, until } = await start(async (d, o) => {
      loads++;
      return loadRuleSet(d, o);
    });
    fs.writeFileSync(file, 'rules: [');
    await until(() => reloads.length > 0);
    const after = loads;
    await new Promise((r) => setTimeout(r, 500)); // five polls
    expect([reloads.map((r) => r.applied), loads]).toEqual([[false], after]);
  });

  it('tries a reload that threw again later, logging the error once', async () => {
    let throwing = 0;
    const { logs, reloads, matched, until } = await start(async (d, o) => {
      if (throwing-- > 0) throw new Error('loader bug');
      return loadRuleSet(d, o);
    });
    throwing = 3; // the edit's reload and the next two tries throw
    fs.writeFileSync(file, B);
    await until(() => reloads.length > 0);
    expect(reloads.map((r) => r.applied)).toEqual([true]);
    expect(matched('bbb')).toEqual(['r']);
    expect(logs.parsed().filter((l) => l.message === 'rule reload failed: it is tried again later')).toEqual([expect.objectContaining({ error: 'loader bug' })]);
  });
});
