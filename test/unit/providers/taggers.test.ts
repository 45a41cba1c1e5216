import { loadConfig } from '../../../src/config';
import { silentLogger } from '../../../src/log';
import { createBotbonnieClient, type BotbonnieClient } from '../../../src/providers/botbonnie';
import { createTaggers } from '../../../src/providers/create-taggers';
import { createMantagoClient } from '../../../src/providers/mantago';
import { createMantagoCredentials } from '../../../src/providers/mantago-credentials';
import { createBotbonnieTagger, createMantagoTagger } from '../../../src/providers/taggers';
import type { TagCall } from '../../../src/tag-operation';
import {
  createMemorySettingsStore,
  startFakeBotbonnie,
  startFakeMantago,
  type FakeBotbonnie,
  type FakeMantago,
} from '../../helpers/fake-tag-api';
import { tagApiErrorOf } from './expect-error';

const base = { tagId: 'tag-7', recipient: 'Udestination', userId: 'U-user' } as const;

describe('BotBonnie tagger: what each operation becomes on the wire', () => {
  let fake: FakeBotbonnie;
  let client: BotbonnieClient;
  beforeAll(async () => {
    fake = await startFakeBotbonnie();
    client = createBotbonnieClient({ baseUrl: fake.baseUrl, token: fake.token, timeoutMs: 2000 });
  });
  beforeEach(() => fake.api.reset());
  afterAll(async () => {
    await client.close();
    await fake.close();
  });

  const op = (o: Partial<TagCall>): TagCall => ({ action: 'add', provider: 'botbonnie', kind: 'personal', platform: 'line', ...base, ...o });

  it('LINE: bot_channel 1 and bot_pid = BOTBONNIE_LINE_PID when set', async () => {
    await createBotbonnieTagger(client, { linePid: '@my-line-bot' }).apply(op({}));
    expect(fake.requests[0]).toMatchObject({ method: 'POST', body: { bot_tag_id: 'tag-7', bot_raw_uid: 'U-user', bot_pid: '@my-line-bot', bot_channel: 1 } });
  });

  it("LINE without BOTBONNIE_LINE_PID: bot_pid is the webhook's destination", async () => {
    await createBotbonnieTagger(client).apply(op({}));
    expect(fake.requests[0]!.body).toMatchObject({ bot_pid: 'Udestination', bot_channel: 1 });
  });

  it('Facebook: bot_channel 0 and bot_pid = the page id, even when a LINE pid is configured; remove is DELETE', async () => {
    const tagger = createBotbonnieTagger(client, { linePid: '@my-line-bot' });
    await tagger.apply(op({ platform: 'facebook', recipient: 'page-123', action: 'remove' }));
    expect(fake.requests[0]).toMatchObject({ method: 'DELETE', body: { bot_pid: 'page-123', bot_channel: 0, bot_raw_uid: 'U-user' } });
  });

  it('Instagram is refused without a call, not retried', async () => {
    const err = await tagApiErrorOf(createBotbonnieTagger(client).apply(op({ platform: 'instagram' })));
    expect(err).toMatchObject({ provider: 'botbonnie', retryable: false });
    expect(err.reason).toContain('instagram users are not BotBonnie users');
    expect(fake.requests).toHaveLength(0);
  });

  it('an operation for the other provider is refused', async () => {
    const err = await tagApiErrorOf(createBotbonnieTagger(client).apply(op({ provider: 'mantago' })));
    expect(err.retryable).toBe(false);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('MantaGo tagger: which endpoint each operation uses', () => {
  let fake: FakeMantago;
  beforeAll(async () => {
    fake = await startFakeMantago();
  });
  beforeEach(() => fake.api.reset());
  afterAll(() => fake.close());

  const setup = () => {
    const client = createMantagoClient({ baseUrl: fake.baseUrl, botId: fake.botId, timeoutMs: 2000 });
    const credentials = createMantagoCredentials({ envToken: fake.token, envSecret: fake.secret, store: createMemorySettingsStore(), client, log: silentLogger() });
    return { client, tagger: createMantagoTagger(client, credentials) };
  };
  const op = (o: Partial<TagCall>): TagCall => ({ action: 'add', provider: 'mantago', kind: 'personal', platform: 'facebook', ...base, ...o });

  it.each([
    [{ action: 'add', kind: 'personal' }, '/api/openapi/personalTagMapping'],
    [{ action: 'remove', kind: 'personal' }, '/api/openapi/personalTagMapping/delete'],
    [{ action: 'add', kind: 'client' }, '/api/openapi/clientTagMapping'],
  ] as const)('%o → %s with platform and platformClientId from the operation', async (o, path) => {
    const { client, tagger } = setup();
    await tagger.apply(op(o));
    expect(fake.requests[0]).toMatchObject({ path, body: { tagId: 'tag-7', platform: 'facebook', platformClientId: 'U-user' } });
    await client.close();
  });

  it('remove of a client tag is refused without a call (MantaGo has no such endpoint)', async () => {
    const { client, tagger } = setup();
    const err = await tagApiErrorOf(tagger.apply(op({ action: 'remove', kind: 'client' })));
    expect(err).toMatchObject({ provider: 'mantago', retryable: false });
    expect(err.reason).toContain('client tags cannot be removed');
    expect(fake.requests).toHaveLength(0);
    await client.close();
  });

  it('a 404 passes through as retryable notFound, with one call', async () => {
    const { client, tagger } = setup();
    fake.unknownClients.add('U-late');
    expect(await tagApiErrorOf(tagger.apply(op({ userId: 'U-late' })))).toMatchObject({ status: 404, retryable: true, notFound: true });
    expect(fake.requests).toHaveLength(1);
    await client.close();
  });
});

describe('createTaggers: one tagger per provider whose token is set', () => {
  it('builds both against the configured base URLs, and none for an unset token', async () => {
    const mantago = await startFakeMantago({ botId: 'bot-9' });
    const botbonnie = await startFakeBotbonnie();
    const store = createMemorySettingsStore();
    const env = {
      MANTAGO_BASE_URL: mantago.baseUrl,
      MANTAGO_BOT_ID: 'bot-9',
      MANTAGO_TOKEN: mantago.token,
      MANTAGO_SECRET: mantago.secret,
      BOTBONNIE_BASE_URL: botbonnie.baseUrl,
      BOTBONNIE_TOKEN: botbonnie.token,
      BOTBONNIE_LINE_PID: '@pid',
    };
    try {
      const both = await createTaggers(loadConfig(env), store, silentLogger());
      await both.taggers.get('mantago')!.apply({ action: 'add', provider: 'mantago', kind: 'personal', platform: 'line', ...base });
      await both.taggers.get('botbonnie')!.apply({ action: 'add', provider: 'botbonnie', kind: 'personal', platform: 'line', ...base });
      expect(mantago.personalTagsOf('line', 'U-user')).toEqual(['tag-7']);
      expect(botbonnie.userTagsOf('@pid', 1, 'U-user')).toEqual(['tag-7']);
      await both.close();

      const none = await createTaggers(loadConfig({ ...env, MANTAGO_TOKEN: '', MANTAGO_SECRET: '', MANTAGO_BOT_ID: '', BOTBONNIE_TOKEN: '', BOTBONNIE_LINE_PID: '' }), store, silentLogger());
      expect([...none.taggers.keys()]).toEqual([]);
      await none.close();
    } finally {
      await mantago.close();
      await botbonnie.close();
    }
  });
});
