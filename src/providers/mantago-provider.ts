import { z } from 'zod';
import { baseUrl, optionalString } from '../env-values';
import type { ProviderDescriptor } from './provider';

export interface MantagoSettings {
  baseUrl: string;
  /** Sent as `?botId=`; MantaGo answers 404 to calls without it. */
  botId: string | undefined;
  token: string | undefined;
  secret: string | undefined;
  /** Where the pair comes from, for what to renew when MantaGo refuses it: `MANTAGO_TOKEN and MANTAGO_SECRET`. */
  pairSource: string;
}

export const MANTAGO_DEFAULT_BASE_URL = 'https://mantago.cc/api';
const ENV_PAIR = 'MANTAGO_TOKEN and MANTAGO_SECRET';
/**
 * How long a shutdown waits at most for a token refresh under way, after delivery's own grace
 * (5 s); the server gives it less when delivery took longer (server.ts: REFRESHES_END_BY_MS).
 */
export const REFRESH_SHUTDOWN_WAIT_MS = 3000;

/** The provider's environment variables, as read. */
const mantagoVariables = z.object({
  MANTAGO_BASE_URL: baseUrl(MANTAGO_DEFAULT_BASE_URL),
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
  env: mantagoVariables.transform((v) => ({
    baseUrl: v.MANTAGO_BASE_URL,
    botId: v.MANTAGO_BOT_ID,
    token: v.MANTAGO_TOKEN,
    secret: v.MANTAGO_SECRET,
    pairSource: ENV_PAIR,
  })),
  variables: Object.keys(mantagoVariables.shape),
  tokenVariable: 'MANTAGO_TOKEN',
  accountKeys: [
    { name: 'bot_id', required: true, secret: false, description: 'The MantaGo bot id, sent as `?botId=` (MANTAGO_BOT_ID for this account).' },
    { name: 'token', required: true, secret: true, description: 'The OpenAPI token, as ${VARIABLE} (MANTAGO_TOKEN for this account); refreshed by the service, kept in its store.' },
    { name: 'secret', required: true, secret: true, description: 'The OpenAPI secret key, as ${VARIABLE} (MANTAGO_SECRET for this account).' },
    { name: 'base_url', required: false, secret: false, url: true, description: `Optional; default ${MANTAGO_DEFAULT_BASE_URL}.` },
  ],
  fromAccount: ({ values, variables }) => ({
    baseUrl: (values.base_url ?? MANTAGO_DEFAULT_BASE_URL).replace(/\/+$/, ''),
    botId: values.bot_id,
    token: values.token,
    secret: values.secret,
    pairSource: [variables.token, variables.secret].filter((v) => v !== undefined).join(' and ') || 'the token and secret',
  }),
  isConfigured: (s) => s.token !== undefined,
  secrets: (s) => [s.token, s.secret],
  kinds: ['personal', 'client'],
  permanentKinds: { client: 'its API has no delete' },
  platforms: ['line', 'facebook', 'instagram', 'whatsapp'],
  personByRecipient: false,
  rotatedCredential: (s) => s.token,

  async createTagger(s, deps) {
    if (s.token === undefined) throw new Error(`${s.pairSource}: the token is not set`);
    const log = deps.log.child({ account: deps.account });
    // Not fatal: the calls fail (401 → refresh fails → dead letters saying what to set), nothing is lost,
    // and `autotag dead-letters retry` replays them once the variable is set.
    if (!s.secret) log.error(`${s.pairSource}: the token is set but the secret is not: MantaGo needs both (API Integration Settings in the MantaGo console)`);
    if (!s.botId) log.error('MANTAGO_BOT_ID is not set: MantaGo answers 404 to calls without botId');
    // Loaded here: the HTTP client is needed only where a tagger is built.
    const [{ createMantagoClient }, { createMantagoCredentials }, { createMantagoTagger }, { keepPairFresh }] = await Promise.all([
      import('./mantago'),
      import('./mantago-credentials'),
      import('./taggers'),
      import('./mantago-pair-keeper'),
    ]);
    const client = createMantagoClient({ baseUrl: s.baseUrl, botId: s.botId, timeoutMs: deps.timeoutMs, ...(deps.dispatcher ? { dispatcher: deps.dispatcher } : {}) });
    // Settles which token pair is in force (the environment's or a refreshed one in the store).
    const credentials = createMantagoCredentials({
      account: deps.account,
      pairSource: s.pairSource,
      envToken: s.token,
      envSecret: s.secret ?? '',
      store: deps.settings,
      client,
      log,
    });
    try {
      await credentials.init();
    } catch (err) {
      await client.close();
      throw err;
    }
    // Refreshed before the JWT runs out whether or not calls come (a call refreshes it too).
    const keeper = keepPairFresh({ credentials, log });
    return {
      tagger: createMantagoTagger(client, credentials),
      async close(opts) {
        // Calls are over (delivery stopped first); a token refresh is never cut off if it can end in time.
        const waitMs = Math.max(0, Math.min(REFRESH_SHUTDOWN_WAIT_MS, opts?.refreshWaitMs ?? REFRESH_SHUTDOWN_WAIT_MS));
        const until = performance.now() + waitMs;
        // A look of the keeper's under way may be about to start a refresh: it ends first (or the wait does).
        await withinMs(keeper.stop(), waitMs);
        if (!(await credentials.refreshesDone(Math.max(0, until - performance.now())))) {
          log.warn(`a MantaGo token refresh was still waiting for its answer when the shutdown could wait no longer; if MantaGo carried it out, set a fresh ${s.pairSource}`, { waitedMs: Math.round(waitMs) });
        }
        await client.close();
      },
    };
  },
};

/** Waits for `p`, for at most `ms`. */
async function withinMs(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([p, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
