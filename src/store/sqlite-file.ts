import path from 'node:path';

/** The file of the embedded store inside DATA_DIR (a module of its own: the CLI needs it without loading the drivers). */
export const SQLITE_FILE_NAME = 'autotag.db';

export function sqliteFileIn(dataDir: string): string {
  return path.join(dataDir, SQLITE_FILE_NAME);
}
