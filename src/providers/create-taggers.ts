import type { Dispatcher } from 'undici';
import type { Config } from '../config';
import type { Logger } from '../log';
import type { Store } from '../store/store';
import { createBotbonnieClient } from './botbonnie';
import { createMantagoClient } from './mantago';
import { createMantagoCredentials } from './mantago-credentials';
import { createBotbonnieTagger, createMantagoTagger, type Tagger } from './taggers';
import type { Provider } from './tag-operation';

export interface Taggers {
  /** One per configured provider (CONTRACT.md: a provider is configured when its token is set). */
  taggers: Partial<Record<Provider, Tagger>>;
  /** Closes the clients' connection pools. */
  close(): Promise<void>;
}

/**
 * Builds the taggers the worker calls, from the configuration. For MantaGo this also
 * settles which token pair is in force (the environment's or a refreshed one in the store),
 * so the store must be migrated first.
 */
export async function createTaggers(
  config: Config,
  store: Pick<Store, 'getSetting' | 'setSetting' | 'withLock'>,
  log: Logger,
  opts: { dispatcher?: Dispatcher } = {},
): Promise<Taggers> {
  const taggers: Partial<Record<Provider, Tagger>> = {};
  const closers: (() => Promise<void>)[] = [];
  const timeoutMs = config.tagApiTimeoutMs;
  const dispatcher = opts.dispatcher ? { dispatcher: opts.dispatcher } : {};

  const m = config.mantago;
  if (m.token) {
    // Not fatal: the calls fail (401 → refresh fails → dead letters saying what to set), nothing is lost,
    // and `autotag dead-letters retry` replays them once the variable is set.
    if (!m.secret) log.error('MANTAGO_TOKEN is set but MANTAGO_SECRET is not: MantaGo needs both (API Integration Settings in the MantaGo console)');
    if (!m.botId) log.error('MANTAGO_BOT_ID is not set: MantaGo answers 404 to calls without botId');
    const client = createMantagoClient({ baseUrl: m.baseUrl, botId: m.botId, timeoutMs, ...dispatcher });
    closers.push(() => client.close());
    const credentials = createMantagoCredentials({ envToken: m.token, envSecret: m.secret ?? '', store, client, log });
    try {
      await credentials.init();
    } catch (err) {
      await client.close();
      throw err;
    }
    taggers.mantago = createMantagoTagger(client, credentials);
  }

  const b = config.botbonnie;
  if (b.token) {
    const client = createBotbonnieClient({ baseUrl: b.baseUrl, token: b.token, timeoutMs, ...(b.botId ? { botId: b.botId } : {}), ...dispatcher });
    closers.push(() => client.close());
    taggers.botbonnie = createBotbonnieTagger(client, b.linePid ? { linePid: b.linePid } : {});
  }

  return {
    taggers,
    async close() {
      await Promise.allSettled(closers.map((c) => c()));
    },
  };
}
