import { ConfigError, loadConfig } from '../../src/config';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.maxBodyBytes).toBe(4194304);
    expect(c.retry).toEqual({ minMs: 1000, maxMs: 3600000, giveUpMs: 86400000, notFoundTimes: 10 });
    expect(c.forward.giveUpMs).toBe(60000);
    expect(c.leaseMs).toBe(30000);
    expect(c.providers.mantago.baseUrl).toBe('https://mantago.cc/api');
    expect(c.providers.botbonnie.baseUrl).toBe('https://api.botbonnie.com');
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

  it('parses forward URL lists and flags', () => {
    const c = loadConfig({ FACEBOOK_FORWARD_URLS: 'http://a.example/x , https://b.example', HISTORY_STORE_TEXT: '1' });
    expect(c.endpoints.find((e) => e.definition.path === '/webhooks/facebook')?.forwardUrls).toEqual(['http://a.example/x', 'https://b.example']);
    expect(c.endpoints.find((e) => e.definition.path === '/webhooks/line')?.forwardUrls).toEqual([]);
    expect(c.history.storeText).toBe(true);
  });
});
