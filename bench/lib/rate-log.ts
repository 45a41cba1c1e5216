import fs from 'node:fs';

/** What one service's log says its rate gate did during a drain (the worker's and stored-pauses' lines). */
export interface RateLogSummary {
  /** `tag API rate limit met: calls paced` lines: runs of 429s this instance weighed itself, with the estimates (per second) they gave. */
  paced: number[];
  /** `tag API rate limit met: calls held while the bucket refills …`: runs that gave no estimate. */
  held: number;
  /** `calls to a provider account paused: another instance met its Retry-After` (NOTIFY heard). */
  pausedByOthers: number;
  /** `tag operation failed, will retry` with status 429. */
  retried429: number;
}

/** Reads a service's JSON log lines (one entry a line; anything else is skipped). */
export function summariseRateLog(file: string): RateLogSummary {
  const out: RateLogSummary = { paced: [], held: 0, pausedByOthers: 0, retried429: 0 };
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    if (!line.includes('rate limit met') && !line.includes('another instance') && !line.includes('"status":429')) continue;
    let entry: { message?: string; estimatePerSecond?: number; status?: number };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    const m = entry.message ?? '';
    if (m.startsWith('tag API rate limit met: calls paced')) out.paced.push(entry.estimatePerSecond ?? NaN);
    else if (m.startsWith('tag API rate limit met: calls held')) out.held++;
    else if (m.startsWith('calls to a provider account paused: another instance')) out.pausedByOthers++;
    else if (m === 'tag operation failed, will retry' && entry.status === 429) out.retried429++;
  }
  return out;
}
