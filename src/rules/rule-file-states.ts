import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** What a look at a file tells without reading it. */
export interface FileStat {
  size: number;
  mtimeMs: number;
  /** Set by the kernel at every write and every change of times or mode (`cp -p` sets mtime back, not ctime). */
  ctimeMs: number;
  /** A save that writes a new file and renames it over the old one changes it. */
  ino: number;
}

export type StatFile = (file: string) => Promise<FileStat | undefined>;

const statFile: StatFile = async (file) => {
  const s = await fs.stat(file).catch(() => undefined);
  return s && { size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs, ino: s.ino };
};

async function hashOf(file: string): Promise<string> {
  const bytes = await fs.readFile(file).catch(() => undefined);
  return bytes ? createHash('sha256').update(bytes).digest('base64') : '';
}

/** A rule file as the last check found it. */
interface SeenFile {
  stat: string;
  /** Of its bytes ('' when it could not be read). */
  hash: string;
  /** When this `stat` was first seen, on the monotonic clock (the file's times may come from another machine's). */
  since: number;
}

export interface RuleFileStatesOptions {
  /**
   * How long after a stat is first seen the file is compared by content at every check
   * (default 3000 ms): where times are kept to the second (FAT: two), a second save within that
   * time can leave every time as it was. It must cover a save made within 2 s of the one seen,
   * plus the time to the next check (watchRules: 2000 + its poll interval).
   */
  racyMs?: number;
  /** Tests stand in a file system whose times are coarser. */
  stat?: StatFile;
  /** Milliseconds on a monotonic clock. */
  now?: () => number;
}

/**
 * Tells whether rule files changed since the last look, without reading them all each time:
 * by their names and stats (size, mtime, ctime, inode), and by content where the stats cannot
 * tell — a file whose stat is new enough that a further save could share it, and every file
 * when `byContent` (a change notification came: something changed, whatever the stats say).
 */
export class RuleFileStates {
  /** What the last check found: the files, or why they could not be listed; undefined before the first check. */
  private last: { files: Map<string, SeenFile> } | { error: string } | undefined;
  private readonly racyMs: number;
  private readonly stat: StatFile;
  private readonly now: () => number;

  constructor(opts: RuleFileStatesOptions = {}) {
    this.racyMs = opts.racyMs ?? 3000;
    this.stat = opts.stat ?? statFile;
    this.now = opts.now ?? (() => performance.now());
  }

  /** Whether `list()` and the files it names differ from the last check (which they then replace). The first check always differs. */
  async changed(list: () => Promise<string[]>, byContent: boolean): Promise<boolean> {
    const before = this.last;
    let files: string[];
    try {
      files = await list();
    } catch (err) {
      this.last = { error: (err as Error).message };
      return !(before && 'error' in before && before.error === this.last.error);
    }
    const seen = before && 'files' in before ? before.files : undefined;
    const now = this.now();
    const found = await Promise.all(
      files.map(async (f): Promise<[SeenFile, boolean]> => {
        const s = await this.stat(f);
        const stat = s ? `${s.size}:${s.mtimeMs}:${s.ctimeMs}:${s.ino}` : 'missing';
        const was = seen?.get(f);
        if (!was || was.stat !== stat) {
          // New stats with the same bytes (touch, chmod, a copy of the same file) change no rule.
          const hash = await hashOf(f);
          return [{ stat, hash, since: now }, !was || hash !== was.hash];
        }
        if (!byContent && now - was.since >= this.racyMs) return [was, false];
        const hash = await hashOf(f);
        return [{ ...was, hash }, hash !== was.hash];
      }),
    );
    this.last = { files: new Map(files.map((f, i) => [f, (found[i] as [SeenFile, boolean])[0]])) };
    return seen === undefined || seen.size !== files.length || found.some(([, differs]) => differs);
  }
}
