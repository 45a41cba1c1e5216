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
