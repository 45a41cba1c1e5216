import type { InstanceSession } from '../store';

/** The session of a store that only one instance serves (SQLite): held from start to end. */
export const ALWAYS_LIVE: InstanceSession = {
  live: true,
  signal: new AbortController().signal,
  onChange: () => () => undefined,
};
