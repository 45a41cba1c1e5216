import { createBotbonnieClient, type BotbonnieClient, type BotbonnieUserTagRequest } from '../../../src/providers/botbonnie';
import { botbonnieError, startFakeBotbonnie, type FakeBotbonnie } from '../../helpers/fake-tag-api';
import { allTextOf, tagApiErrorOf } from './expect-error';

describe('BotBonnie client against a fake BotBonnie', () => {
  let fake: FakeBotbonnie;
  let client: BotbonnieClient;
  const req: BotbonnieUserTagRequest = { bot_tag_id: 'tag-4TbbFavFY', bot_raw_uid: 'U4af4980629', bot_pid: '@linebot', bot_channel: 1 };

  beforeAll(async () => {
    fake = await startFakeBotbonnie({ token: 'bb-token-secret-value', botId: 'bot-WDCLEHlTw' });
    client = createBotbonnieClient({ baseUrl: fake.baseUrl, token: fake.token, botId: fake.botId, timeoutMs: 1500 });
  });
  beforeEach(() => fake.api.reset());
  afterAll(async () => {
    await client.close();
    await fake.close();
  });

  describe('user tags (CONTRACT.md "Tag operations on the wire")', () => {
    it.each([
      ['addUserTag', 'POST'],
      ['removeUserTag', 'DELETE'],
    ] as const)('%s sends %s /v1/api/user/tag with the four fields and the bearer token', async (method, verb) => {
      await client[method](req);
      const [seen] = await fake.api.waitFor(1);
      expect(seen).toMatchObject({ method: verb, path: '/v1/api/user/tag', query: {} });
      expect(seen!.headers['content-type']).toBe('application/json');
      expect(seen!.headers.authorization).toBe('Bearer bb-token-secret-value');
      expect(Object.keys(seen!.body as object)).toEqual(['bot_tag_id', 'bot_raw_uid', 'bot_pid', 'bot_channel']);
      expect(seen!.body).toEqual({ bot_tag_id: 'tag-4TbbFavFY', bot_raw_uid: 'U4af4980629', bot_pid: '@linebot', bot_channel: 1 });
    });

    it('add, list and remove change what BotBonnie keeps', async () => {
      fake.addTag({ id: 'tag-4TbbFavFY', name: 'coupon' });
      await client.addUserTag(req);
      await client.addUserTag({ ...req, bot_tag_id: 'tag-other' });
      expect(await client.listUserTags({ bot_raw_uid: req.bot_raw_uid, bot_pid: req.bot_pid, bot_channel: 1 })).toEqual([
        { id: 'tag-4TbbFavFY', name: 'coupon' },
        { id: 'tag-other', name: 'tag-other' },
      ]);
      const list = fake.api.requests.find((r) => r.method === 'GET');
      expect(list?.query).toEqual({ bot_raw_uid: 'U4af4980629', bot_pid: '@linebot', bot_channel: '1' });
      await client.removeUserTag(req);
      expect(fake.userTagsOf('@linebot', 1, 'U4af4980629')).toEqual(['tag-other']);
    });
  });

  describe('tag administration', () => {
    it('creates a tag with botId, name and type 0 (and the folder as parentId), then gets and deletes it', async () => {
      const folder = fake.addTag({ id: 'tag-folder1', name: 'campaigns', type: 1 });
      const { id } = await client.createTag({ name: 'December coupon', folder: folder.id });
      const create = fake.api.requests[0]!;
      expect(create).toMatchObject({ method: 'POST', path: '/v1/api/tag/autogen' });
      expect(create.body).toEqual({ botId: 'bot-WDCLEHlTw', name: 'December coupon', type: 0, parentId: 'tag-folder1' });

      const tag = await client.getTag(id);
      expect(tag).toMatchObject({ id, name: 'December coupon', botId: 'bot-WDCLEHlTw', type: 0 });
      expect(typeof tag.created).toBe('number');
      expect(fake.api.requests[1]).toMatchObject({ method: 'GET', path: `/v1/api/tag/${id}` });

      expect(await client.deleteTag(folder.id)).toEqual(['tag-folder1', id]);
      expect(fake.tags.has(id)).toBe(false);
    });

    it('accepts the autogen answer with `res` as a JSON string, as the docs print it', async () => {
      fake.api.enqueue({ body: { res: '{"id":"tag-fromstring"}', status: 200 } });
      expect(await client.createTag({ name: 'x' })).toEqual({ id: 'tag-fromstring' });
    });

    it('createTag without a bot id says which variable is missing', async () => {
      const noBot = createBotbonnieClient({ baseUrl: fake.baseUrl, token: fake.token, timeoutMs: 1000 });
      await expect(noBot.createTag({ name: 'x' })).rejects.toThrow('BOTBONNIE_BOT_ID is not set');
      await noBot.close();
      expect(fake.api.requests).toHaveLength(0);
    });

    it('getTag of an unknown tag is a 404 that is not retried', async () => {
      const err = await tagApiErrorOf(client.getTag('tag-missing'));
      expect(err).toMatchObject({ provider: 'botbonnie', status: 404, code: '404', retryable: false, notFound: false });
      expect(err.reason).toBe('404 from botbonnie (code 404): tag tag-missing not found');
    });
  });

  describe('answers', () => {
    it('a 2xx whose body carries errorMessage/errorCode is a failure that is not retried', async () => {
      fake.api.enqueue({ status: 200, body: botbonnieError(500, 'user not found') });
      const err = await tagApiErrorOf(client.addUserTag(req));
      expect(err).toMatchObject({ status: 200, code: '500', retryable: false });
      expect(err.reason).toContain('user not found');
    });

    it('a 2xx whose body says success:false is not retried', async () => {
      fake.api.enqueue({ status: 200, body: { success: false } });
      expect(await tagApiErrorOf(client.addUserTag(req))).toMatchObject({ status: 200, retryable: false });
    });

    it.each([400, 401, 403, 404, 409])('%i is not retried', async (status) => {
      fake.api.enqueue({ status, body: botbonnieError(status, 'no') });
      expect(await tagApiErrorOf(client.removeUserTag(req))).toMatchObject({ status, retryable: false, notFound: false });
    });

    it('a wrong token gets 401 from the fake', async () => {
      const wrong = createBotbonnieClient({ baseUrl: fake.baseUrl, token: 'wrong-token', timeoutMs: 1000 });
      expect(await tagApiErrorOf(wrong.addUserTag(req))).toMatchObject({ status: 401, retryable: false });
      await wrong.close();
    });

    it('429 with Retry-After seconds and with an HTTP date', async () => {
      fake.api.enqueue({ status: 429, headers: { 'retry-after': '3' } });
      expect(await tagApiErrorOf(client.addUserTag(req))).toMatchObject({ status: 429, retryable: true, retryAfterMs: 3000 });
      fake.api.enqueue({ status: 429, headers: { 'retry-after': new Date(Date.now() + 60_000).toUTCString() } });
      const err = await tagApiErrorOf(client.addUserTag(req));
      expect(err.retryAfterMs).toBeGreaterThan(58_000);
      expect(err.retryAfterMs).toBeLessThanOrEqual(60_000);
    });

    it.each([500, 503])('%i is retryable', async (status) => {
      fake.api.enqueue({ status, body: botbonnieError(status, 'busy') });
      expect(await tagApiErrorOf(client.addUserTag(req))).toMatchObject({ status, retryable: true, code: String(status) });
    });

    it('a dropped connection is retryable', async () => {
      fake.api.enqueue({ drop: true });
      const err = await tagApiErrorOf(client.addUserTag(req));
      expect(err).toMatchObject({ retryable: true, status: undefined });
      expect(err.reason).toMatch(/^network error from botbonnie \(POST \/v1\/api\/user\/tag\)/);
    });

    it('a timeout is retryable', async () => {
      const quick = createBotbonnieClient({ baseUrl: fake.baseUrl, token: fake.token, timeoutMs: 150 });
      fake.api.enqueue({ delayMs: 2000 });
      const err = await tagApiErrorOf(quick.removeUserTag(req));
      expect(err).toMatchObject({ retryable: true, status: undefined });
      expect(err.reason).toBe('timeout from botbonnie after 150 ms (DELETE /v1/api/user/tag)');
      await quick.close();
    });

    it('the token never appears in an error, even when echoed', async () => {
      fake.api.enqueue({ status: 401, body: botbonnieError(401, `token bb-token-secret-value is not valid`) });
      const err = await tagApiErrorOf(client.addUserTag(req));
      expect(allTextOf(err)).not.toContain('bb-token-secret-value');
    });
  });
});
