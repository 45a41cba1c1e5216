import type { Store } from '../../src/store/store';

/**
 * The settings and lock part of the Store, in memory, for tests of code that needs only
 * that (e.g. the MantaGo token pair). Pass the same object to a second consumer to play
 * "a restart" or "another instance on the same database".
 */
export interface MemorySettingsStore extends Pick<Store, 'getSetting' | 'setSetting' | 'withLock'> {
  readonly settings: Map<string, string>;
  /** How many times each lock was taken. */
  readonly lockCounts: Map<string, number>;
  /** The next `n` setSetting calls reject (to test a store failure). */
  failNextSets(n: number): void;
}

export function createMemorySettingsStore(initial: Record<string, string> = {}): MemorySettingsStore {
  const settings = new Map(Object.entries(initial));
  const lockCounts = new Map<string, number>();
  const tails = new Map<string, Promise<void>>();
  let failures = 0;
  return {
    settings,
    lockCounts,
    failNextSets(n) {
      failures = n;
    },
    async getSetting(key) {
      return settings.get(key);
    },
    async setSetting(key, value) {
      if (failures > 0) {
        failures -= 1;
        throw new Error(`setSetting(${key}) failed (scripted by the test)`);
      }
      settings.set(key, value);
    },
    // A chain per name: each holder starts when the previous one has finished.
    async withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
      const before = tails.get(name) ?? Promise.resolve();
      let release!: () => void;
      const mine = new Promise<void>((r) => (release = r));
      const tail = before.then(() => mine);
      tails.set(name, tail);
      await before;
      lockCounts.set(name, (lockCounts.get(name) ?? 0) + 1);
      try {
        return await fn();
      } finally {
        release();
        if (tails.get(name) === tail) tails.delete(name);
      }
    },
  };
}
