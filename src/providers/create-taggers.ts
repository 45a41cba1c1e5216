import type { Config } from '../config';
import type { Logger } from '../log';
import type { Store } from '../store/store';
import { createBotbonnieClient } from './botbonnie';
import { createMantagoClient } from './mantago';
import { createMantagoCredentials } from './mantago-credentials';
import { createBotbonnieTagger, createMantagoTagger, type Tagger } from './taggers';
import type { Provider } from './tag-operation';

export interface Taggers {
  taggers: Partial<Record<Provider, Tagger>>;
  close(): Promise<void>;
}

/**
 * A tagger for every provider whose token is set. A provider without one gets
 * none: its operations are kept as dead letters until it is configured.
 */
export async function createTaggers(config: Config, store: Store, log: Logger): Promise<Taggers> {
  const taggers: Partial<Record<Provider, Tagger>> = {};
  const closers: (() => Promise<void>)[] = [];
  const m = config.mantago;
  if (m.token) {
    const client = createMantagoClient({ baseUrl: m.baseUrl, botId: m.botId ?? '', timeoutMs: config.tagApiTimeoutMs });
    const credentials = createMantagoCredentials({ envToken: m.token, envSecret: m.secret ?? '', store, client, log });
    await credentials.init();
    taggers.mantago = createMantagoTagger(client, credentials);
    closers.push(() => client.close());
  }
  const b = config.botbonnie;
  if (b.token) {
    const client = createBotbonnieClient({ baseUrl: b.baseUrl, token: b.token, botId: b.botId, timeoutMs: config.tagApiTimeoutMs });
    taggers.botbonnie = createBotbonnieTagger(client, { linePid: b.linePid });
    closers.push(() => client.close());
  }
  return {
    taggers,
    close: async () => {
      await Promise.all(closers.map((c) => c().catch(() => undefined)));
    },
  };
}
