import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * Every `*.yaml` / `*.yml` file under `dir`, subfolders included, skipping
 * names that start with '.' (editor swap files, and the `..data` folders
 * Kubernetes mounts ConfigMaps through). Symbolic links are followed, since
 * mounted config is usually made of them. Sorted by path within `dir`: the
 * order rules of equal priority are evaluated in.
 */
export async function findRuleFiles(dir: string): Promise<string[]> {
  const found: { rel: string; abs: string }[] = [];
  const visited = new Set<string>();
  async function walk(abs: string, rel: string): Promise<void> {
    // A link back up the tree would otherwise be walked forever.
    const real = await fs.realpath(abs);
    if (visited.has(real)) return;
    visited.add(real);
    for (const entry of await fs.readdir(abs, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const childAbs = path.join(abs, entry.name);
      const childRel = rel ? `${rel}/${entry.name}` : entry.name;
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        const target = await fs.stat(childAbs).catch(() => undefined);
        isDir = target?.isDirectory() ?? false;
        isFile = target?.isFile() ?? false;
      }
      if (isDir) await walk(childAbs, childRel);
      else if (isFile && /\.ya?ml$/i.test(entry.name)) found.push({ rel: childRel, abs: childAbs });
    }
  }
  await walk(dir, '');
  // Plain code-unit order, not locale order: the same on every machine.
  return found.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0)).map((f) => f.abs);
}
