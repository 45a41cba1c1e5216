import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { jwtExpiresAt } from '../../../src/providers/jwt-exp';
import { bodyExcerpt, redactSecrets } from '../../../src/providers/redact';
import { parseRetryAfter } from '../../../src/providers/retry-after';
import { makeJwt } from '../../helpers/fake-tag-api';

describe('parseRetryAfter', () => {
  const now = Date.UTC(2026, 11, 5, 10, 0, 0);
  it.each([
    ['0', 0],
    ['7', 7000],
    [' 120 ', 120_000],
    ['1.5', 1500],
    // Huge values are kept as they are: whoever applies a pause caps it at RETRY_MAX_MS.
    ['3000000000', 3_000_000_000_000],
    ['9'.repeat(400), Number.MAX_SAFE_INTEGER],
  ])('seconds: %j → %i ms', (value, ms) => {
    expect(parseRetryAfter(value, now)).toBe(ms);
  });

  it.each([
    ['Sat, 05 Dec 2026 10:00:30 GMT', 30_000],
    ['Saturday, 05-Dec-26 10:00:30 GMT', 30_000],
    ['Sat Dec  5 10:00:30 2026', 30_000],
    ['sat, 05 dec 2026 11:00:00 gmt', 3_600_000],
    ['Fri, 31 Dec 9999 23:59:59 GMT', Date.UTC(9999, 11, 31, 23, 59, 59) - now],
  ])('an HTTP date in the future: %j → %i ms', (value, ms) => {
    expect(parseRetryAfter(value, now)).toBe(ms);
  });

  it.each(['Sat, 05 Dec 2026 09:59:00 GMT', 'Sunday, 06-Nov-94 08:49:37 GMT', 'Sun Nov  6 08:49:37 1994', 'Thu, 01 Jan 1970 00:00:00 GMT'])(
    'an HTTP date in the past: %j → 0',
    (value) => {
      expect(parseRetryAfter(value, now)).toBe(0);
    },
  );

  it('reads an asctime date as GMT, whatever the local time zone (the built module, run with TZ=Asia/Taipei)', () => {
    // Jest gives each test file its own process.env, so the zone is set on a process of its own.
    const module = path.resolve(__dirname, '../../../dist/providers/retry-after.js');
    const script = `process.stdout.write(String(require(${JSON.stringify(module)}).parseRetryAfter('Sat Dec  5 10:00:30 2026', ${now})))`;
    const out = execFileSync(process.execPath, ['-e', script], { env: { ...process.env, TZ: 'Asia/Taipei' }, encoding: 'utf8' });
    expect(out).toBe('30000');
  });

  it.each([
    undefined,
    '',
    '-5',
    '+5',
    '5s',
    '0x10',
    '1e3',
    'soon',
    '1 2',
    'Mon 5',
    'Sat, 05 Dec 2026 10:00:30', // no zone
    'Sat, 05 Dec 2026 10:00:30 +0800', // HTTP dates are GMT only
    '2026-12-05T10:00:30Z', // ISO 8601 is no HTTP date
    'Sat, 31 Feb 2026 10:00:30 GMT',
    'Sat, 05 Foo 2026 10:00:30 GMT',
    'Sat, 05 Dec 2026 25:00:30 GMT',
  ])('garbage: %j → undefined', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });

  it('takes the first of repeated headers', () => {
    expect(parseRetryAfter(['3', '9'], now)).toBe(3000);
  });
});

describe('redactSecrets / bodyExcerpt', () => {
  it('removes known values, credential-named JSON fields, JWT-shaped strings and bearer values', () => {
    const jwt = makeJwt({ exp: 1 });
    const text = `{"apiToken":"abc-token","apiSecret":"s\\"x","message":"secret sesame used; ${jwt}; Authorization: Bearer opaque123"}`;
    const out = redactSecrets(text, ['sesame']);
    expect(out).not.toContain('abc-token');
    expect(out).not.toContain('s\\"x');
    expect(out).not.toContain('sesame');
    expect(out).not.toContain(jwt);
    expect(out).not.toContain('opaque123');
    expect(out).toContain('"apiToken":"[redacted]"');
  });
  it('cuts the excerpt to about 300 characters after redacting', () => {
    const secret = 'S'.repeat(20);
    const excerpt = bodyExcerpt(`${'a'.repeat(290)}${secret}${'b'.repeat(100)}`, [secret])!;
    expect(excerpt).not.toContain('SSSS');
    expect(excerpt.length).toBeLessThanOrEqual(301);
    expect(bodyExcerpt('   ', [])).toBeUndefined();
  });
});

describe('jwtExpiresAt', () => {
  it('reads exp without verifying the signature', () => {
    expect(jwtExpiresAt(makeJwt({ exp: 1_800_000_000 }, 'any key'))).toBe(1_800_000_000_000);
  });
  it.each(['not-a-jwt', 'a.b.c', makeJwt({ sub: 'x' }), makeJwt({ exp: 'soon' })])('%s → undefined', (token) => {
    expect(jwtExpiresAt(token)).toBeUndefined();
  });
});
