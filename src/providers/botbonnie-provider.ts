import { z } from 'zod';
import { baseUrl, optionalString } from '../env-values';
import { BOTBONNIE_CHANNEL } from './botbonnie-channels';
import type { ProviderDescriptor } from './provider';

export interface BotbonnieSettings {
  baseUrl: string;
  token: string | undefined;
  /** Only the tag administration commands need it. */
  botId: string | undefined;
  /** `bot_pid` for LINE users; without it the LINE webhook's destination. */
  linePid: string | undefined;
}

export { BOTBONNIE_CHANNEL } from './botbonnie-channels';

export const BOTBONNIE_DEFAULT_BASE_URL = 'https://api.botbonnie.com';

/** The provider's environment variables, as read. */
const botbonnieVariables = z.object({
  BOTBONNIE_BASE_URL: baseUrl(BOTBONNIE_DEFAULT_BASE_URL),
  BOTBONNIE_TOKEN: optionalString,
  BOTBONNIE_BOT_ID: optionalString,
  BOTBONNIE_LINE_PID: optionalString,
});

/** BotBonnie (https://docs.botbonnie.com): user tags, added and removed, for LINE and Messenger users. */
export const botbonnieProvider: ProviderDescriptor<'botbonnie', BotbonnieSettings> = {
  name: 'botbonnie',
  title: 'BotBonnie',
  env: botbonnieVariables.transform((v) => ({ baseUrl: v.BOTBONNIE_BASE_URL, token: v.BOTBONNIE_TOKEN, botId: v.BOTBONNIE_BOT_ID, linePid: v.BOTBONNIE_LINE_PID })),
  variables: Object.keys(botbonnieVariables.shape),
  tokenVariable: 'BOTBONNIE_TOKEN',
  accountKeys: [
    { name: 'token', required: true, secret: true, description: 'The BotBonnie API token, as ${VARIABLE} (BOTBONNIE_TOKEN for this account).' },
    { name: 'bot_id', required: false, secret: false, description: 'The BotBonnie bot id (bot-XXXXXXXX); only `autotag botbonnie … --account` needs it.' },
    { name: 'line_pid', required: false, secret: false, description: "`bot_pid` for LINE users; default: the LINE webhook's destination." },
    { name: 'base_url', required: false, secret: false, url: true, description: `Optional; default ${BOTBONNIE_DEFAULT_BASE_URL}.` },
  ],
  fromAccount: ({ values }) => ({
    baseUrl: (values.base_url ?? BOTBONNIE_DEFAULT_BASE_URL).replace(/\/+$/, ''),
    token: values.token,
    botId: values.bot_id,
    linePid: values.line_pid,
  }),
  isConfigured: (s) => s.token !== undefined,
  secrets: (s) => [s.token],
  kinds: ['personal'],
  platforms: [...BOTBONNIE_CHANNEL.keys()],
  personByRecipient: true,
  // As the tagger sends it (taggers.ts, createBotbonnieTagger): one LINE pid for every destination.
  personOf: (s, platform) => (platform === 'line' ? s.linePid : undefined),

  async createTagger(s, deps) {
    if (s.token === undefined) throw new Error('BOTBONNIE_TOKEN is not set');
    // Loaded here: the HTTP client is needed only where a tagger is built.
    const [{ createBotbonnieClient }, { createBotbonnieTagger }] = await Promise.all([import('./botbonnie'), import('./taggers')]);
    const client = createBotbonnieClient({
      baseUrl: s.baseUrl,
      token: s.token,
      timeoutMs: deps.timeoutMs,
      ...(s.botId ? { botId: s.botId } : {}),
      ...(deps.dispatcher ? { dispatcher: deps.dispatcher } : {}),
    });
    return { tagger: createBotbonnieTagger(client, s.linePid ? { linePid: s.linePid } : {}), close: () => client.close() };
  },
};
