import { sendForward } from '../../../src/delivery/forward';
import { MAX_ANSWER_BYTES } from '../../../src/providers/bounded-body';
import { TagApiError } from '../../../src/providers/errors';
import { createHttpClient, type HttpClient } from '../../../src/providers/http';
import { createBotbonnieClient } from '../../../src/providers/botbonnie';
import { createMantagoClient, type MantagoClient } from '../../../src/providers/mantago';
import { HUGE_BODY_START, HugeAnswerServer } from '../../helpers/huge-answer-server';

/** The 64 KiB limit on answers (CONTRACT.md "Retries"), at its edge, against a real loopback server. */
describe('answers are read up to 64 KiB', () => {
  let upstream: HugeAnswerServer;
  let client: HttpClient;

  beforeAll(async () => {
    upstream = await HugeAnswerServer.start({ status: 200, bytes: 0 });
    client = createHttpClient({ provider: 'mantago', baseUrl: upstream.url, timeoutMs: 5000, secrets: () => ['upstream'] });
  });
  afterAll(async () => {
    await client.close();
    await upstream.close();
  });
  const send = () => client.send({ method: 'POST', path: '/openapi/personalTagMapping', bearer: 'token', body: {} });

  describe('from a tag API', () => {
    it.each([true, false])('an answer of exactly 64 KiB is read whole (length declared: %s)', async (declareLength) => {
      upstream.answer = { status: 200, bytes: MAX_ANSWER_BYTES, declareLength };
      const answer = await send();
      expect(answer.status).toBe(200);
      expect(answer.text).toHaveLength(MAX_ANSWER_BYTES);
    });

    it.each([true, false])('one byte more is cut at 64 KiB, marked truncated and left unparsed (length declared: %s)', async (declareLength) => {
      upstream.answer = { status: 200, bytes: MAX_ANSWER_BYTES + 1, declareLength };
      const answer = await send();
      expect(answer).toMatchObject({ status: 200, truncated: true, json: undefined });
      expect(answer.text).toHaveLength(MAX_ANSWER_BYTES);
      expect(answer.text.startsWith(HUGE_BODY_START)).toBe(true);
    });

    it('a whole answer is not marked truncated', async () => {
      upstream.answer = { status: 200, bytes: 10 };
      expect(await send()).toMatchObject({ status: 200, truncated: false });
    });
  });

  /**
   * CONTRACT.md "Retries": the body is read only up to 64 KiB, and the answer is judged by
   * its status like any other — "other 4xx … are not retried", 429 and 5xx are.
   */
  describe('a tag API answer longer than 64 KiB is judged by its status', () => {
    let mantago: MantagoClient;
    beforeAll(() => {
      mantago = createMantagoClient({ baseUrl: upstream.url, botId: 'bot-1', timeoutMs: 5000 });
    });
    afterAll(() => mantago.close());
    const creds = { token: 'token-1', secret: 'upstream' };
    const add = () => mantago.addPersonalTag(creds, { tagId: 'T1', platform: 'line', platformClientId: 'U1' });
    const failureOf = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: unknown) => e as TagApiError,
      );

    it('a 2xx is a success (the tag call is not made again)', async () => {
      upstream.answer = { status: 200, bytes: 100 * MAX_ANSWER_BYTES, declareLength: false };
      await expect(add()).resolves.toBeUndefined();
    });

    /** CONTRACT.md: a 2xx whose body says `"success": false` is not retried — said before the cut, it is read there. */
    it('a 2xx that says "success": false before the cut is a failure that is not retried', async () => {
      upstream.answer = {
        status: 200,
        bytes: 10 * MAX_ANSWER_BYTES,
        start: '{"success": false, "errResponse": {"message": "quota exceeded", "code": 4001}, "message": "quota exceeded", "detail": "',
      };
      const err = await failureOf(add());
      expect(err).toBeInstanceOf(TagApiError);
      expect(err).toMatchObject({ provider: 'mantago', status: 200, retryable: false, notFound: false });
      expect(err!.reason).toBe('200 from mantago reporting failure: quota exceeded (its body is longer than 64 KiB: only the start was read)');
      // Success said before the cut, or nothing said about it: a success, as before.
      upstream.answer = { status: 200, bytes: 10 * MAX_ANSWER_BYTES, start: '{"success": true, "detail": "' };
      await expect(add()).resolves.toBeUndefined();
      upstream.answer = { status: 200, bytes: 10 * MAX_ANSWER_BYTES, start: '{"data": {"success": false}, "detail": "' };
      await expect(add()).resolves.toBeUndefined();
    });

    it('BotBonnie: a 2xx that gives an errorCode before the cut is a failure that is not retried', async () => {
      const botbonnie = createBotbonnieClient({ baseUrl: upstream.url, token: 'upstream', timeoutMs: 5000 });
      try {
        upstream.answer = { status: 200, bytes: 10 * MAX_ANSWER_BYTES, start: '{"errorCode": 1003, "errorMessage": "user not found", "detail": "' };
        const err = await failureOf(botbonnie.addUserTag({ bot_tag_id: 'T1', bot_raw_uid: 'U1', bot_pid: 'P1', bot_channel: 1 }));
        expect(err).toMatchObject({ provider: 'botbonnie', status: 200, retryable: false, code: '1003' });
      } finally {
        await botbonnie.close();
      }
    });

    it('a 400 is not retried, says it was cut and keeps the start of the body as the excerpt', async () => {
      upstream.answer = { status: 400, bytes: 10 * MAX_ANSWER_BYTES };
      const err = await failureOf(add());
      expect(err).toBeInstanceOf(TagApiError);
      expect(err).toMatchObject({ provider: 'mantago', status: 400, retryable: false, notFound: false });
      expect(err!.reason).toBe('400 from mantago: bad request (its body is longer than 64 KiB: only the start was read)');
      expect(err!.bodyExcerpt?.startsWith(HUGE_BODY_START.replace('upstream', '[redacted]'))).toBe(true);
    });

    it('a 404 counts as MantaGo\'s "client not known yet", as a short one does', async () => {
      upstream.answer = { status: 404, bytes: 2 * MAX_ANSWER_BYTES };
      expect(await failureOf(add())).toMatchObject({ status: 404, retryable: true, notFound: true });
    });

    it('a 429 is retried and still carries its Retry-After', async () => {
      upstream.answer = { status: 429, bytes: 10 * MAX_ANSWER_BYTES, headers: { 'retry-after': '7' } };
      expect(await failureOf(add())).toMatchObject({ status: 429, retryable: true, retryAfterMs: 7000 });
    });

    it('a 503 is retried', async () => {
      upstream.answer = { status: 503, bytes: 10 * MAX_ANSWER_BYTES, declareLength: false };
      expect(await failureOf(add())).toMatchObject({ status: 503, retryable: true });
    });
  });

  describe('from a forward destination', () => {
    const forward = () => sendForward(`${upstream.url}/hook`, Buffer.from('{}'), { 'content-type': 'application/json' }, { timeoutMs: 5000 });

    it('a 2xx is a success whatever its length', async () => {
      upstream.answer = { status: 204, bytes: 0 };
      expect(await forward()).toMatchObject({ ok: true, status: 204 });
      upstream.answer = { status: 200, bytes: 100 * MAX_ANSWER_BYTES, declareLength: false };
      expect(await forward()).toMatchObject({ ok: true, status: 200 });
    });

    it('a failure keeps the start of an oversized body as the excerpt', async () => {
      upstream.answer = { status: 503, bytes: 100 * MAX_ANSWER_BYTES, headers: { 'retry-after': '2' } };
      const result = await forward();
      expect(result).toMatchObject({ ok: false, status: 503, retryable: true, retryAfterMs: 2000 });
      expect(result.bodyExcerpt).toBe(HUGE_BODY_START + 'x'.repeat(300 - HUGE_BODY_START.length));
    });

    it('a 400 with an oversized body is not retried, and its reason says the body was cut (as a tag API\'s)', async () => {
      upstream.answer = { status: 400, bytes: 100 * MAX_ANSWER_BYTES };
      const cut = await forward();
      expect(cut).toMatchObject({ ok: false, status: 400, retryable: false });
      expect(cut.reason).toBe(`400 from ${new URL(upstream.url).host} (its body is longer than 64 KiB: only the start was read)`);
      upstream.answer = { status: 400, bytes: 100 };
      expect((await forward()).reason).toBe(`400 from ${new URL(upstream.url).host}`);
    });
  });
});
