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
    ['Sat, 05 Dec 2026 10:00:30 GMT', 30_000],
    ['Sat, 05 Dec 2026 09:59:00 GMT', 0],
  ])('%j → %i ms', (value, ms) => {
    expect(parseRetryAfter(value, now)).toBe(ms);
  });
  it.each([undefined, '', '-5', 'soon', '1 2'])('%j → undefined', (value) => {
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
