/**
 * What a provider may keep between calls and share with other instances (MantaGo's
 * rotating token pair): settings and a named lock. The Store has these; a provider
 * sees nothing else of it.
 */
export interface SettingsStore {
  getSetting(key: string): Promise<string | undefined>;
  setSetting(key: string, value: string): Promise<void>;
  /** Runs `fn` while no other holder (in this process, or with PostgreSQL any instance) holds `name`. */
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T>;
}
