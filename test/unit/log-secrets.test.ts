import { Writable } from 'node:stream';
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
