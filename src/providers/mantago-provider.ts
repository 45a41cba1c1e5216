import { z } from 'zod';
import { baseUrl, optionalString } from '../env-values';
import type { ProviderDescriptor } from './provider';

export interface MantagoSettings {
  baseUrl: string;
  /** Sent as `?botId=`; MantaGo answers 404 to calls without it. */
  botId: string | undefined;
  token: string | undefined;
  secret: string | undefined;
}

/** The provider's environment variables, as read. */
const mantagoVariables = z.object({
  MANTAGO_BASE_URL: baseUrl('https://mantago.cc/api'),
  MANTAGO_BOT_ID: optionalString,
  MANTAGO_TOKEN: optionalString,
  MANTAGO_SECRET: optionalString,
});

/**
 * MantaGo (https://doc.mantago.cc): personal tags (add and remove) and client tags
 * (add only), for users of every platform its API's `platform` enum names.
 */
export const mantagoProvider: ProviderDescriptor<'mantago', MantagoSettings> = {
  name: 'mantago',
  title: 'MantaGo',
  env: mantagoVariables.transform((v) => ({ baseUrl: v.MANTAGO_BASE_URL, botId: v.MANTAGO_BOT_ID, token: v.MANTAGO_TOKEN, secret: v.MANTAGO_SECRET })),
  variables: Object.keys(mantagoVariables.shape),
  tokenVariable: 'MANTAGO_TOKEN',
  isConfigured: (s) => s.token !== undefined,
  secrets: (s) => [s.token, s.secret],
  kinds: ['personal', 'client'],
  platforms: ['line', 'facebook', 'instagram', 'whatsapp'],

  async createTagger(s, deps) {
    if (s.token === undefined) throw new Error('MANTAGO_TOKEN is not set');
    // Not fatal: the calls fail (401 → refresh fails → dead letters saying what to set), nothing is lost,
    // and `autotag dead-letters retry` replays them once the variable is set.
    if (!s.secret) deps.log.error('MANTAGO_TOKEN is set but MANTAGO_SECRET is not: MantaGo needs both (API Integration Settings in the MantaGo console)');
    if (!s.botId) deps.log.error('MANTAGO_BOT_ID is not set: MantaGo answers 404 to calls without botId');
    // Loaded here: the HTTP client is needed only where a tagger is built.
    const [{ createMantagoClient }, { createMantagoCredentials }, { createMantagoTagger }] = await Promise.all([
      import('./mantago'),
      import('./mantago-credentials'),
      import('./taggers'),
    ]);
    const client = createMantagoClient({ baseUrl: s.baseUrl, botId: s.botId, timeoutMs: deps.timeoutMs, ...(deps.dispatcher ? { dispatcher: deps.dispatcher } : {}) });
    // Settles which token pair is in force (the environment's or a refreshed one in the store).
    const credentials = createMantagoCredentials({ envToken: s.token, envSecret: s.secret ?? '', store: deps.settings, client, log: deps.log });
    try {
      await credentials.init();
    } catch (err) {
      await client.close();
      throw err;
    }
    return { tagger: createMantagoTagger(client, credentials), close: () => client.close() };
  },
};
