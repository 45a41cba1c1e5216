import { ConfigError, loadConfig } from '../../src/config';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.maxBodyBytes).toBe(4194304);
    expect(c.retry).toEqual({ minMs: 1000, maxMs: 3600000, giveUpMs: 86400000, notFoundTimes: 10 });
    expect(c.forward.giveUpMs).toBe(60000);
    expect(c.leaseMs).toBe(30000);
    expect(c.mantago.baseUrl).toBe('https://mantago.cc/api');
    expect(c.botbonnie.baseUrl).toBe('https://api.botbonnie.com');
    expect(c.history).toEqual({ storeText: false, retentionDays: 30 });
    expect(c.databaseUrl).toBeUndefined();
  });

  it('names the variable that is wrong', () => {
    expect(() => loadConfig({ PORT: 'abc' })).toThrow(/PORT: must be a whole number/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL: must start with postgres/);
    expect(() => loadConfig({ LINE_FORWARD_URLS: 'http://ok.example, nope' })).toThrow(/LINE_FORWARD_URLS: "nope" is not an http/);
    expect(() => loadConfig({ LEASE_MS: '5000' })).toThrow(ConfigError);
  });

  it('reports every problem at once', () => {
    try {
      loadConfig({ PORT: 'x', RETRY_MIN_MS: '-1' });
      throw new Error('expected a ConfigError');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).problems).toHaveLength(2);
    }
  });

  it('refuses an ADMIN_TOKEN shorter than 16 characters, saying how to make one, without echoing it', () => {
    for (const short of ['abc', '123456789012345']) {
      let error: unknown;
      try {
        loadConfig({ ADMIN_TOKEN: short });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      const [problem] = (error as ConfigError).problems;
      expect(problem).toBe('ADMIN_TOKEN: must be at least 16 characters (or unset, which disables /admin); generate one with `openssl rand -hex 24`');
      expect((error as Error).message).not.toContain(short);
    }
    expect(loadConfig({ ADMIN_TOKEN: '1234567890123456' }).adminToken).toBe('1234567890123456');
    expect(loadConfig({ ADMIN_TOKEN: '' }).adminToken).toBeUndefined();
  });

  it('reads TRUST_PROXY_HOPS: 1 by default, 0 allowed, nothing else but whole numbers', () => {
    expect(loadConfig({}).trustProxyHops).toBe(1);
    expect(loadConfig({ TRUST_PROXY_HOPS: '0' }).trustProxyHops).toBe(0);
    expect(loadConfig({ TRUST_PROXY_HOPS: '2' }).trustProxyHops).toBe(2);
    expect(() => loadConfig({ TRUST_PROXY_HOPS: 'true' })).toThrow(/TRUST_PROXY_HOPS: must be a whole number ≥ 0/);
    expect(() => loadConfig({ TRUST_PROXY_HOPS: '-1' })).toThrow(/TRUST_PROXY_HOPS: must be a whole number ≥ 0/);
  });

  it('parses forward URL lists and flags', () => {
    const c = loadConfig({ FACEBOOK_FORWARD_URLS: 'http://a.example/x , https://b.example', HISTORY_STORE_TEXT: '1' });
    expect(c.forward.facebook).toEqual(['http://a.example/x', 'https://b.example']);
    expect(c.history.storeText).toBe(true);
  });
});
