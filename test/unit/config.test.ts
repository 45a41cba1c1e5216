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

  it('refuses a MANTAGO_BASE_URL or BOTBONNIE_BASE_URL with a query or a fragment, naming it', () => {
    expect(() => loadConfig({ MANTAGO_BASE_URL: 'https://mantago.cc/api?lang=en' })).toThrow(/MANTAGO_BASE_URL: "https:\/\/mantago\.cc\/api\?lang=en": a base URL cannot have a query/);
    expect(() => loadConfig({ BOTBONNIE_BASE_URL: 'https://api.botbonnie.com/#v1' })).toThrow(/BOTBONNIE_BASE_URL: .* a base URL cannot have a query \(\?…\) or a fragment/);
    expect(loadConfig({ MANTAGO_BASE_URL: 'https://proxy.example/mantago/api/' }).providers.mantago.baseUrl).toBe('https://proxy.example/mantago/api');
  });

  it('names the variable that is wrong', () => {
    expect(() => loadConfig({ PORT: 'abc' })).toThrow(/PORT: must be a whole number/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL: must start with postgres/);
    expect(() => loadConfig({ LINE_FORWARD_URLS: 'http://ok.example, nope' })).toThrow(/LINE_FORWARD_URLS: "nope" is not an http/);
    expect(() => loadConfig({ LEASE_MS: '5000', TAG_API_TIMEOUT_MS: '5000' })).toThrow(ConfigError);
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

  it('reports conflicts between values beside the other problems, not only once those are fixed', () => {
    const env = { PORT: '0', ADMIN_TOKEN: 'short', RETRY_MIN_MS: '5000', RETRY_MAX_MS: '1000', TAG_API_TIMEOUT_MS: '40000', MAX_UNVERIFIED_BYTES: '10' };
    let error: unknown;
    try {
      loadConfig(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.split(':')[0])).toEqual(['PORT', 'ADMIN_TOKEN', 'TAG_API_TIMEOUT_MS', 'RETRY_MAX_MS', 'MAX_UNVERIFIED_BYTES']);
    // Alone, each conflict is still the one problem.
    expect(() => loadConfig({ RETRY_MIN_MS: '5000', RETRY_MAX_MS: '1000' })).toThrow(/^invalid configuration:\n {2}RETRY_MAX_MS: 1000 is less than RETRY_MIN_MS \(5000\)[^\n]*$/);
  });

  it('refuses an ADMIN_TOKEN shorter than 16 characters, saying how to make one, without echoing it', () => {
    // Characters, not UTF-16 units: eight emoji are 16 units and still only 8 characters.
    for (const short of ['abc', '123456789012345', '🔑'.repeat(8)]) {
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
    expect(loadConfig({ ADMIN_TOKEN: '🔑'.repeat(16) }).adminToken).toBe('🔑'.repeat(16));
    expect(loadConfig({ ADMIN_TOKEN: '' }).adminToken).toBeUndefined();
  });

  it('reads TRUST_PROXY_HOPS: 1 by default, 0 allowed, nothing else but whole numbers', () => {
    expect(loadConfig({}).trustProxyHops).toBe(1);
    expect(loadConfig({ TRUST_PROXY_HOPS: '0' }).trustProxyHops).toBe(0);
    expect(loadConfig({ TRUST_PROXY_HOPS: '2' }).trustProxyHops).toBe(2);
    expect(() => loadConfig({ TRUST_PROXY_HOPS: 'true' })).toThrow(/TRUST_PROXY_HOPS: must be a whole number ≥ 0/);
    expect(() => loadConfig({ TRUST_PROXY_HOPS: '-1' })).toThrow(/TRUST_PROXY_HOPS: must be a whole number ≥ 0/);
  });

  it('reads PROVIDER_CALLERS: one by default, every, nothing else', () => {
    expect(loadConfig({}).providerCallers).toBe('one');
    expect(loadConfig({ PROVIDER_CALLERS: ' Every ' }).providerCallers).toBe('every');
    expect(() => loadConfig({ PROVIDER_CALLERS: 'all' })).toThrow(/PROVIDER_CALLERS: must be one \(one instance at a time calls each provider account; the default\) or every/);
  });

  it('refuses a delay longer than a timer takes (2^31 − 1 ms), naming the variable, where a timer would fire after 1 ms instead', () => {
    const timers = ['LEASE_MS', 'TAG_API_TIMEOUT_MS', 'FORWARD_TIMEOUT_MS', 'RETRY_MIN_MS', 'RETRY_MAX_MS', 'DATABASE_CONNECT_TIMEOUT_MS'];
    for (const name of timers) {
      expect(() => loadConfig({ [name]: '2147483648' })).toThrow(
        new RegExp(`${name}: must be a whole number from \\d+ to 2147483647, got "2147483648"; the longest delay a timer takes`),
      );
    }
    // The statement timeout is given a second more before the connection counts as gone.
    expect(() => loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '2147483000' })).toThrow(/DATABASE_STATEMENT_TIMEOUT_MS: must be a whole number from 1 to 2147482647/);
    expect(loadConfig({ LEASE_MS: '2147483647', RETRY_MAX_MS: '2147483647' })).toMatchObject({ leaseMs: 2147483647 });
    // Every whole-number variable: no more than a double holds exactly.
    expect(() => loadConfig({ RETRY_GIVE_UP_MS: '1'.repeat(30) })).toThrow(/RETRY_GIVE_UP_MS: must be a whole number from 0 to 9007199254740991, got "1{30}"/);
    expect(() => loadConfig({ HISTORY_RETENTION_DAYS: '9007199254740993' })).toThrow(/HISTORY_RETENTION_DAYS: must be a whole number from 0 to 9007199254740991/);
  });

  it('refuses a DATABASE_URL node-postgres cannot read, naming it without quoting it (it holds the password)', () => {
    for (const url of ['postgres://u:s3cret-pw@127.0.0.1:notaport/db', 'postgres://u:s3cret-pw@h:99999/db', 'postgresql://u:s3cret-pw@[bad/db', 'postgres://u:s3cret-pw%E0@h/db', 'postgres://u:s3cret-pw@h/te%E0st']) {
      let message = '';
      try {
        loadConfig({ DATABASE_URL: url });
      } catch (e) {
        message = (e as Error).message;
      }
      expect([url, message]).toEqual([url, expect.stringMatching(/DATABASE_URL: is not a valid URL: postgres:\/\/USER:PASSWORD@HOST:PORT\/DATABASE/)]);
      expect(message).not.toContain('s3cret-pw');
    }
    // What libpq and node-postgres accept: a socket folder instead of a host, no host at all, a space in the password.
    for (const url of ['postgres:///db?host=/var/run/postgresql', 'postgres://u:p@/db', 'postgres://u:p w@h:5432/db', 'postgresql://u:p%40x@db.example/autotag?sslmode=require']) {
      expect(loadConfig({ DATABASE_URL: url }).databaseUrl).toBe(url);
    }
  });

  it('HISTORY_STORE_TEXT: 1 (true, yes, on) is on; unset, 0 (false, no, off) is off; anything else is refused', () => {
    for (const v of ['1', 'true', 'YES', ' on ']) expect(loadConfig({ HISTORY_STORE_TEXT: v }).history.storeText).toBe(true);
    for (const v of ['0', 'false', 'No', 'off', '']) expect(loadConfig({ HISTORY_STORE_TEXT: v }).history.storeText).toBe(false);
    expect(loadConfig({}).history.storeText).toBe(false);
    expect(() => loadConfig({ HISTORY_STORE_TEXT: 'banana' })).toThrow(/HISTORY_STORE_TEXT: must be 1 \(or true, yes, on\) to turn it on, or 0 \(or false, no, off\) or unset for off \(not "banana"\)/);
  });

  it('parses forward URL lists and flags', () => {
    const c = loadConfig({ FACEBOOK_FORWARD_URLS: 'http://a.example/x , https://b.example', HISTORY_STORE_TEXT: '1' });
    expect(c.endpoints.find((e) => e.definition.path === '/webhooks/facebook')?.forwardUrls).toEqual(['http://a.example/x', 'https://b.example']);
    expect(c.endpoints.find((e) => e.definition.path === '/webhooks/line')?.forwardUrls).toEqual([]);
    expect(c.history.storeText).toBe(true);
  });

  describe('defaults that depend on another variable never stop the service', () => {
    const problemsOf = (env: Record<string, string>): string[] => {
      try {
        loadConfig(env);
        return [];
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        return e.problems;
      }
    };

    it('call timeouts default to 10 s, or a third of LEASE_MS when that is less', () => {
      expect(loadConfig({})).toMatchObject({ leaseMs: 30000, tagApiTimeoutMs: 10000, forward: { timeoutMs: 10000 } });
      expect(loadConfig({ LEASE_MS: '3000' })).toMatchObject({ leaseMs: 3000, tagApiTimeoutMs: 1000, forward: { timeoutMs: 1000 } });
      expect(loadConfig({ LEASE_MS: '1000' })).toMatchObject({ tagApiTimeoutMs: 333, forward: { timeoutMs: 333 } });
      expect(loadConfig({ LEASE_MS: '45000' })).toMatchObject({ tagApiTimeoutMs: 10000, forward: { timeoutMs: 10000 } });
      expect(loadConfig({ LEASE_MS: '120000' })).toMatchObject({ tagApiTimeoutMs: 10000, forward: { timeoutMs: 10000 } });
      // Blank is unset (Heroku and Render keep empty config vars).
      expect(loadConfig({ LEASE_MS: '3000', TAG_API_TIMEOUT_MS: ' ', FORWARD_TIMEOUT_MS: '' })).toMatchObject({ tagApiTimeoutMs: 1000, forward: { timeoutMs: 1000 } });
    });

    it('a timeout set explicitly is kept when it is shorter than LEASE_MS, even when longer than the default', () => {
      expect(loadConfig({ LEASE_MS: '3000', TAG_API_TIMEOUT_MS: '2999', FORWARD_TIMEOUT_MS: '2500' })).toMatchObject({
        tagApiTimeoutMs: 2999,
        forward: { timeoutMs: 2500 },
      });
      expect(loadConfig({ TAG_API_TIMEOUT_MS: '20000' })).toMatchObject({ leaseMs: 30000, tagApiTimeoutMs: 20000, forward: { timeoutMs: 10000 } });
    });

    it('refuses only an explicit timeout that is not shorter than LEASE_MS, naming it and what to do', () => {
      expect(problemsOf({ LEASE_MS: '3000', TAG_API_TIMEOUT_MS: '3000' })).toEqual([
        'TAG_API_TIMEOUT_MS: 3000 is not shorter than LEASE_MS (3000), so a call could outlive its lease; ' +
          'set TAG_API_TIMEOUT_MS below LEASE_MS, raise LEASE_MS, or unset TAG_API_TIMEOUT_MS to get its default ' +
          '(1000 here: 10000, or a third of LEASE_MS when that is less)',
      ]);
      // With LEASE_MS at its default, the message says so: raising it is one of the fixes.
      expect(problemsOf({ FORWARD_TIMEOUT_MS: '45000' })).toEqual([
        expect.stringMatching(/^FORWARD_TIMEOUT_MS: 45000 is not shorter than LEASE_MS \(30000, its default\), so a call could outlive its lease; .*\(10000 here: /),
      ]);
      expect(problemsOf({ LEASE_MS: '5000', TAG_API_TIMEOUT_MS: '8000', FORWARD_TIMEOUT_MS: '5000' })).toEqual([
        expect.stringMatching(/^TAG_API_TIMEOUT_MS: 8000 is not shorter than LEASE_MS \(5000\)/),
        expect.stringMatching(/^FORWARD_TIMEOUT_MS: 5000 is not shorter than LEASE_MS \(5000\)/),
      ]);
    });

    it('RETRY_MIN_MS / RETRY_MAX_MS: the one left unset moves to fit the one that is set', () => {
      expect(loadConfig({ RETRY_MIN_MS: '7200000' }).retry).toMatchObject({ minMs: 7200000, maxMs: 7200000 });
      expect(loadConfig({ RETRY_MIN_MS: '5000' }).retry).toMatchObject({ minMs: 5000, maxMs: 3600000 });
      expect(loadConfig({ RETRY_MAX_MS: '500' }).retry).toMatchObject({ minMs: 500, maxMs: 500 });
      expect(loadConfig({ RETRY_MAX_MS: '60000' }).retry).toMatchObject({ minMs: 1000, maxMs: 60000 });
      expect(loadConfig({ RETRY_MIN_MS: '20', RETRY_MAX_MS: '100' }).retry).toMatchObject({ minMs: 20, maxMs: 100 });
    });

    it('RETRY_MIN_MS / RETRY_MAX_MS: both set the wrong way round is refused, naming both', () => {
      expect(problemsOf({ RETRY_MIN_MS: '5000', RETRY_MAX_MS: '1000' })).toEqual([
        'RETRY_MAX_MS: 1000 is less than RETRY_MIN_MS (5000), but the longest delay between attempts cannot be shorter than the first; ' +
          'raise RETRY_MAX_MS or lower RETRY_MIN_MS (either one left unset defaults to a value that fits the other)',
      ]);
    });

    it('a bad number is still reported as such, before any relation is judged', () => {
      expect(problemsOf({ LEASE_MS: '500', TAG_API_TIMEOUT_MS: 'soon' })).toEqual([
        'LEASE_MS: must be a whole number ≥ 1000, got "500"',
        'TAG_API_TIMEOUT_MS: must be a whole number ≥ 1, got "soon"',
      ]);
    });
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
      ADMIN_TOKEN: 'admin-token-1-long-enough', LINE_CHANNEL_SECRET: 'line-secret-1', FACEBOOK_APP_SECRET: 'fb-secret-1', FACEBOOK_VERIFY_TOKEN: 'fb-token-1',
      WHATSAPP_APP_SECRET: 'wa-secret-1', WHATSAPP_VERIFY_TOKEN: 'wa-token-1', MANTAGO_BOT_ID: 'mg-bot', MANTAGO_TOKEN: 'mg-token-1', MANTAGO_SECRET: 'mg-secret-1', BOTBONNIE_TOKEN: 'bb-token-1',
    });
    expect(new Set(secretsOf(c))).toEqual(new Set(['admin-token-1-long-enough', 'line-secret-1', 'fb-secret-1', 'fb-token-1', 'wa-secret-1', 'wa-token-1', 'mg-token-1', 'mg-secret-1', 'bb-token-1']));
  });

  it("lists DATABASE_URL's password for redaction, as written in the URL and decoded", () => {
    const c = loadConfig({ DATABASE_URL: 'postgres://autotag:s3cr%40t-pass@db.example:5432/autotag' });
    expect(secretsOf(c)).toEqual(expect.arrayContaining(['s3cr%40t-pass', 's3cr@t-pass']));
    expect(secretsOf(c)).not.toContain('autotag');
    expect(secretsOf(loadConfig({ DATABASE_URL: 'postgres://autotag@db.example/autotag' }))).toEqual([]);
  });
});
