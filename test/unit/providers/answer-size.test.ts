import { sendForward } from '../../../src/delivery/forward';
import { MAX_ANSWER_BYTES } from '../../../src/providers/bounded-body';
import { TagApiError } from '../../../src/providers/errors';
import { createHttpClient, type HttpClient } from '../../../src/providers/http';
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

    it.each([true, false])('one byte more is a retryable error with the status and the start of the body (length declared: %s)', async (declareLength) => {
      upstream.answer = { status: 200, bytes: MAX_ANSWER_BYTES + 1, declareLength };
      const err = await send().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TagApiError);
      expect(err).toMatchObject({ provider: 'mantago', status: 200, retryable: true, notFound: false });
      expect((err as TagApiError).reason).toBe('the answer from mantago (200, POST /openapi/personalTagMapping) is larger than 64 KiB');
      expect((err as TagApiError).bodyExcerpt?.startsWith(HUGE_BODY_START.replace('upstream', '[redacted]'))).toBe(true);
    });

    it('an oversized 429 still carries its Retry-After', async () => {
      upstream.answer = { status: 429, bytes: 10 * MAX_ANSWER_BYTES, headers: { 'retry-after': '7' } };
      await expect(send()).rejects.toMatchObject({ status: 429, retryable: true, retryAfterMs: 7000 });
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
  });
});
