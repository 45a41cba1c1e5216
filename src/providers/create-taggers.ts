import type { Dispatcher } from 'undici';
import type { Config } from '../config';
import type { Logger } from '../log';
import type { CloseOptions } from './provider';
import type { SettingsStore } from './settings-store';
import type { Tagger } from './taggers';

export interface Taggers {
  /** One per configured account, by account name (CONTRACT.md: a provider is configured when its token is set). */
  taggers: ReadonlyMap<string, Tagger>;
  /** Closes the clients' connection pools. */
  close(opts?: CloseOptions): Promise<void>;
}

/**
 * Builds the taggers the worker calls, one per configured account (the environment's,
 * named after their provider, and the channels file's), each by its provider's
 * descriptor with its own client. MantaGo's also settle which token pair is in force
 * for their account (the configured one or a refreshed one in the store), so the store
 * must be migrated first.
 */
export async function createTaggers(config: Config, settings: SettingsStore, log: Logger, opts: { dispatcher?: Dispatcher } = {}): Promise<Taggers> {
  const taggers = new Map<string, Tagger>();
  const closers: ((opts?: CloseOptions) => Promise<void>)[] = [];
  const close = async (opts?: CloseOptions) => void (await Promise.allSettled(closers.map((c) => c(opts))));
  try {
    for (const account of config.accounts) {
      if (!account.configured) continue;
      const built = await account.provider.createTagger(account.settings, {
        account: account.name,
        timeoutMs: config.tagApiTimeoutMs,
        settings,
        log,
        ...(opts.dispatcher ? { dispatcher: opts.dispatcher } : {}),
      });
      closers.push(built.close);
      taggers.set(account.name, built.tagger);
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { taggers, close };
}
