import fs from 'node:fs';
import path from 'node:path';

/*
 * Whether a folder lies on a disk of its own. Render gives a service an ephemeral
 * filesystem; only what is written under a persistent disk's mount path survives a
 * deploy or restart (https://render.com/docs/disks), and Render names that path in no
 * variable. So the mount table is read: a folder under a mount other than `/`, on a
 * filesystem that is not held in memory, is on such a disk.
 */

/** Filesystems that live in memory or in the container's writable layer: gone at restart. */
const EPHEMERAL_FS = new Set(['tmpfs', 'ramfs', 'overlay', 'aufs', 'devtmpfs']);

export interface Mount {
  mountPoint: string;
  fsType: string;
}

/** The mounts of a `/proc/self/mountinfo` text (see proc(5)). */
export function parseMountInfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(' ');
    const dash = fields.indexOf('-');
    const mountPoint = fields[4];
    const fsType = fields[dash + 1];
    if (dash < 6 || mountPoint === undefined || fsType === undefined) continue;
    // Spaces and the like are written as octal escapes (\040).
    mounts.push({ mountPoint: mountPoint.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))), fsType });
  }
  return mounts;
}

/** The mount a path lies on: the one with the longest mount point that contains it. */
export function mountOf(dir: string, mounts: readonly Mount[]): Mount | undefined {
  let best: Mount | undefined;
  for (const m of mounts) {
    const inside = m.mountPoint === '/' || dir === m.mountPoint || dir.startsWith(`${m.mountPoint}/`);
    if (inside && (best === undefined || m.mountPoint.length >= best.mountPoint.length)) best = m;
  }
  return best;
}

/** A mount that keeps what is written to it across restarts (as far as the mount table tells). */
export function isPersistentMount(m: Mount | undefined): boolean {
  return m !== undefined && m.mountPoint !== '/' && !EPHEMERAL_FS.has(m.fsType);
}

/**
 * Whether `dir` lies on a persistent disk: true, false, or undefined when the mount
 * table cannot be read (not Linux). `mountInfo`: the table's text, for tests.
 */
export function onPersistentDisk(dir: string, mountInfo?: string): boolean | undefined {
  let text = mountInfo;
  if (text === undefined) {
    try {
      text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
    } catch {
      return undefined;
    }
  }
  let real = path.resolve(dir);
  try {
    real = fs.realpathSync(real);
  } catch {
    // Not created yet: its path as written.
  }
  return isPersistentMount(mountOf(real, parseMountInfo(text)));
}
