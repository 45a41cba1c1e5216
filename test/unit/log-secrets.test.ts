import { Writable } from 'node:stream';
import { loadConfig, secretsOf } from '../../src/config';
import { createLogger } from '../../src/log';
import { secretMasker, WHOLE_ONLY_BELOW } from '../../src/mask-secrets';
import { redactSecrets } from '../../src/providers/redact';

/**
 * Secret values are masked in every log line. A short secret (`METRICS_TOKEN=short`) is
 * masked where it stands as a value of its own — in a URL, a header, a JSON string —
 * and not inside ordinary words, which it used to cut up in every line; a long one is
 * masked wherever it appears, as before.
 */
async function logged(secrets: string[], write: (log: ReturnType<typeof createLogger>) => void): Promise<Record<string, unknown>[]> {
  const chunks: string[] = [];
  const stream = new Writable({
    write: (chunk: Buffer, _enc, cb) => {
      chunks.push(chunk.toString('utf8'));
      cb();
    },
  });
  const log = createLogger({ level: 'info', secrets, stream });
  write(log);
  await new Promise<void>((resolve) => setImmediate(resolve));
  return chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('secrets in log lines', () => {
  it("DATABASE_URL's password is masked, as written in the URL and decoded; the rest of the URL stays", async () => {
    const url = 'postgres://autotag:s3cr%40t-pass@db.example:5432/autotag';
    const [line] = await logged(secretsOf(loadConfig({ DATABASE_URL: url })), (log) => log.error('could not connect', { url, error: 'password authentication failed (s3cr@t-pass)' }));
    expect(JSON.stringify(line)).not.toMatch(/s3cr/);
    expect(line).toMatchObject({ url: 'postgres://autotag:[redacted]@db.example:5432/autotag', error: 'password authentication failed ([redacted])' });
  });

  it('a short secret leaves ordinary words that contain it alone', async () => {
    const [line] = await logged(['short'], (log) => log.info('shortly after start: shortcut taken, a_short_name kept', { note: 'shorter queue', rules: ['shortlist'] }));
    expect(line).toMatchObject({ message: 'shortly after start: shortcut taken, a_short_name kept', note: 'shorter queue', rules: ['shortlist'] });
  });

  it('a short secret is still masked as a value of its own: in a URL, a header, JSON, a sentence, the whole value', async () => {
    const [line] = await logged(['short'], (log) =>
      log.warn('metrics scrape refused', {
        url: '/metrics?token=short&x=1',
        header: 'Bearer short',
        body: '{"metricsToken":"short","n":1}',
        reason: 'wrong token short.',
        value: 'short',
        error: new Error('token (short) rejected'),
      }),
    );
    expect(line).toMatchObject({
      url: '/metrics?token=[redacted]&x=1',
      header: 'Bearer [redacted]',
      body: '{"metricsToken":"[redacted]","n":1}',
      reason: 'wrong token [redacted].',
      value: '[redacted]',
      error: { message: 'token ([redacted]) rejected' },
    });
    expect(JSON.stringify(line)).not.toMatch(/\bshort\b/);
  });

  it('a secret of 16 characters or more is masked wherever it appears, inside a longer string too', async () => {
    const secret = 'a1b2c3d4e5f6a7b8c9d0';
    expect(secret.length).toBeGreaterThanOrEqual(WHOLE_ONLY_BELOW);
    const [line] = await logged([secret], (log) => log.info(`glued x${secret}y`, { url: `https://h.example/p?t=${secret}`, body: JSON.stringify({ secret: 'x', other: `${secret}99` }) }));
    expect(JSON.stringify(line)).not.toContain(secret);
    expect(line).toMatchObject({ message: 'glued x[redacted]y', url: 'https://h.example/p?t=[redacted]' });
  });

  it('a secret that holds a shorter one is masked whole', async () => {
    const [line] = await logged(['tok1', 'tok1-and-more-of-it'], (log) => log.info('sent tok1-and-more-of-it and tok1'));
    expect(line).toMatchObject({ message: 'sent [redacted] and [redacted]' });
  });
});

describe('secretMasker', () => {
  it('treats letters and digits of any script as word characters, and a secret that begins or ends with punctuation as bounded there', () => {
    const mask = secretMasker(['abcd', '-x9-']);
    expect(mask('abcdé abcd9 9abcd _abcd abcd')).toBe('abcdé abcd9 9abcd _abcd [redacted]');
    expect(mask('優惠 abcd, (abcd) "abcd"')).toBe('優惠 [redacted], ([redacted]) "[redacted]"');
    expect(mask('a-x9-b')).toBe('a[redacted]b');
    expect(mask('abcdabcd')).toBe('abcdabcd');
  });

  it('masks every whole occurrence, overlapping ones as one pass reads them', () => {
    expect(secretMasker(['aaaa'])(' aaaa aaaa aaaaa ')).toBe(' [redacted] [redacted] aaaaa ');
  });
});

describe('redactSecrets (tag API errors, dead letters)', () => {
  it('masks a short secret as the logs do: whole values only', () => {
    expect(redactSecrets('bad secret sesame; sesameseed is fine; ?s=sesame', ['sesame'])).toBe('bad secret [redacted]; sesameseed is fine; ?s=[redacted]');
  });
});

describe('a short secret after an escape or beside writing without spaces (masked before the whole-value rule, and still)', () => {
  const mask = secretMasker(['hunter2']);

  it('after a percent-encoded character: a URL nested in a query string, an encoded header value', () => {
    expect(mask('redirect=https%3A%2F%2Fbot.example.com%2Fhook%3Ftoken%3Dhunter2%26x%3D1')).toBe('redirect=https%3A%2F%2Fbot.example.com%2Fhook%3Ftoken%3D[redacted]%26x%3D1');
    expect(mask('?auth=Bearer%20hunter2')).toBe('?auth=Bearer%20[redacted]');
    expect(mask('/p%2Fhunter2')).toBe('/p%2F[redacted]');
  });

  it('after a backslash escape of JSON text (an error body quoted as it came)', () => {
    expect(mask('{"error":"bad token:\\nhunter2\\tretry"}')).toBe('{"error":"bad token:\\n[redacted]\\tretry"}');
    expect(mask('{"url":"https://h/?a=1\\u0026k=x\\u003dhunter2"}')).toBe('{"url":"https://h/?a=1\\u0026k=x\\u003d[redacted]"}');
  });

  it('beside Chinese or Japanese text, which has no spaces between words', () => {
    expect(mask('密碼hunter2錯誤')).toBe('密碼[redacted]錯誤');
    expect(secretMasker(['芝麻開門'])('請說芝麻開門吧')).toBe('請說[redacted]吧');
    expect(mask('トークンhunter2です')).toBe('トークン[redacted]です');
  });

  it('still leaves words that hold it alone, also after a percent sign or backslash that begins no escape', () => {
    expect(mask('hunter22 xhunter2 hunter2x')).toBe('hunter22 xhunter2 hunter2x');
    expect(mask('%zzhunter2 \\qhunter2 %4hunter2')).toBe('%zzhunter2 \\qhunter2 %4hunter2');
  });

  it('redactSecrets (tag API error bodies) does the same', () => {
    expect(redactSecrets('{"message":"secret錯誤:sesame","detail":"bad\\nsesame"}', ['sesame'])).toBe('{"message":"secret錯誤:[redacted]","detail":"bad\\n[redacted]"}');
    expect(redactSecrets('找不到sesame', ['sesame'])).toBe('找不到[redacted]');
  });
});
