import type { Dispatcher } from 'undici';
import type { Config } from '../config';
import type { Logger } from '../log';
import type { Provider } from '../tag-operation';
import { providerSetups } from './index';
import type { SettingsStore } from './settings-store';
import type { Tagger } from './taggers';

export interface Taggers {
  /** One per configured provider (CONTRACT.md: a provider is configured when its token is set). */
  taggers: Partial<Record<Provider, Tagger>>;
  /** Closes the clients' connection pools. */
  close(): Promise<void>;
}

/**
 * Builds the taggers the worker calls, one per configured provider, each by its
 * descriptor. MantaGo's also settles which token pair is in force (the environment's
 * or a refreshed one in the store), so the store must be migrated first.
 */
export async function createTaggers(config: Config, settings: SettingsStore, log: Logger, opts: { dispatcher?: Dispatcher } = {}): Promise<Taggers> {
  const taggers: Partial<Record<Provider, Tagger>> = {};
  const closers: (() => Promise<void>)[] = [];
  const close = async () => void (await Promise.allSettled(closers.map((c) => c())));
  try {
    for (const { provider, settings: own, configured } of providerSetups(config.providers)) {
      if (!configured) continue;
      const built = await provider.createTagger(own, {
        timeoutMs: config.tagApiTimeoutMs,
        settings,
        log,
        ...(opts.dispatcher ? { dispatcher: opts.dispatcher } : {}),
      });
      closers.push(built.close);
      taggers[provider.name] = built.tagger;
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { taggers, close };
}
