import fs from 'node:fs';
import path from 'node:path';
import { decodeFileText } from '../rules/file-text';
import type { ChannelsFileResult } from './definitions';
import { parseChannelsFile, type UnsetVariables } from './parse-channels-file';

export const CHANNELS_FILE_VARIABLE = 'CHANNELS_FILE';
const DEFAULT_FILE = 'channels.yaml';

export interface LoadedChannels extends ChannelsFileResult {
  /** The file read (absolute); undefined when there is none (CHANNELS_FILE unset and no ./channels.yaml). */
  path?: string;
}

/**
 * Reads the channels file: CHANNELS_FILE, else ./channels.yaml when it exists, else
 * none (the environment's channels and accounts only). A CHANNELS_FILE that cannot be
 * read is a problem; a missing ./channels.yaml is not.
 */
export function loadChannelsFile(env: NodeJS.ProcessEnv, cwd: string, unset: UnsetVariables): LoadedChannels {
  const named = env[CHANNELS_FILE_VARIABLE]?.trim();
  const abs = path.resolve(cwd, named || DEFAULT_FILE);
  // Problems name it relative to the working directory (CONTRACT.md: `FILE:LINE:COLUMN`), `../`
  // included, as rule files are named. Log lines and reasons name it so only inside the working
  // directory, and by its absolute path outside it (clearer than a climb of `../`).
  const relative = path.relative(cwd, abs);
  const display = path.isAbsolute(relative) ? abs : relative || '.';
  const shown = !relative || relative.startsWith('..') || path.isAbsolute(relative) ? abs : relative;
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!named && code === 'ENOENT') return { problems: [], warnings: [] };
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : (err as Error).message;
    return {
      path: abs,
      problems: [{ file: display, line: 1, column: 1, message: `cannot read the channels file${named ? ` (${CHANNELS_FILE_VARIABLE})` : ''}: ${why}` }],
      warnings: [],
    };
  }
  const decoded = decodeFileText(bytes);
  if ('problem' in decoded) return { path: abs, problems: [{ file: display, ...decoded.problem }], warnings: [] };
  const parsed = parseChannelsFile(decoded.text, display, env, unset);
  return { path: abs, ...parsed, ...(parsed.channels ? { channels: { ...parsed.channels, file: shown } } : {}) };
}
