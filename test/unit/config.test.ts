import { ConfigError, loadConfig, secretsOf, type Config } from '../../src/config';

const endpoint = (c: Config, path: string) => c.endpoints.find((e) => e.definition.path === path);

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

  it('WhatsApp: its own secret and verify token, else the Facebook ones; its own forward URLs', () => {
    const fallback = loadConfig({ FACEBOOK_APP_SECRET: 'fb-secret-1', FACEBOOK_VERIFY_TOKEN: 'fb-token-1' });
    expect(endpoint(fallback, '/webhooks/whatsapp')).toMatchObject({ secret: 'fb-secret-1', verifyToken: 'fb-token-1', forwardUrls: [] });
    const own = loadConfig({ FACEBOOK_APP_SECRET: 'fb-secret-1', WHATSAPP_APP_SECRET: 'wa-secret-1', WHATSAPP_VERIFY_TOKEN: 'wa-token-1', WHATSAPP_FORWARD_URLS: 'https://bot.example/wa' });
    expect(endpoint(own, '/webhooks/whatsapp')).toMatchObject({ secret: 'wa-secret-1', verifyToken: 'wa-token-1', forwardUrls: ['https://bot.example/wa'] });
    expect(endpoint(own, '/webhooks/facebook')).toMatchObject({ secret: 'fb-secret-1', verifyToken: undefined, forwardUrls: [] });
    expect(endpoint(loadConfig({}), '/webhooks/whatsapp')).toMatchObject({ secret: undefined, verifyToken: undefined });
    expect(() => loadConfig({ WHATSAPP_FORWARD_URLS: 'ftp://nope' })).toThrow(/WHATSAPP_FORWARD_URLS: "ftp:\/\/nope" is not an http/);
  });

  it('lists every endpoint and provider secret for redaction', () => {
    const c = loadConfig({
      ADMIN_TOKEN: 'admin-token-1', LINE_CHANNEL_SECRET: 'line-secret-1', FACEBOOK_APP_SECRET: 'fb-secret-1', FACEBOOK_VERIFY_TOKEN: 'fb-token-1',
      WHATSAPP_APP_SECRET: 'wa-secret-1', WHATSAPP_VERIFY_TOKEN: 'wa-token-1', MANTAGO_TOKEN: 'mg-token-1', MANTAGO_SECRET: 'mg-secret-1', BOTBONNIE_TOKEN: 'bb-token-1',
    });
    expect(new Set(secretsOf(c))).toEqual(new Set(['admin-token-1', 'line-secret-1', 'fb-secret-1', 'fb-token-1', 'wa-secret-1', 'wa-token-1', 'mg-token-1', 'mg-secret-1', 'bb-token-1']));
  });
});
