import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';
import { keyVariable, partlyConfiguredProblems } from '../../src/config-checks';
import { parseMountInfo, mountOf, isPersistentMount } from '../../src/data-disk';
import { PROVIDER_DESCRIPTORS } from '../../src/providers';
import { tempDir } from '../helpers/app-harness';

const problemsOf = (env: Record<string, string | undefined>, opts: Parameters<typeof loadConfig>[1] = {}): string[] => {
  try {
    loadConfig(env, opts);
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems;
  }
};

describe('start-time checks (CONTRACT: a bad value stops the service with a message that names the variable)', () => {
  it('PORT must be 1–65535', () => {
    for (const bad of ['0', '65536', '-1', '80.5']) {
      expect(problemsOf({ PORT: bad })).toEqual([
        `PORT: must be a whole number from 1 to 65535, got ${JSON.stringify(bad)}; leave it unset for 3000 (Heroku and Render set PORT themselves)`,
      ]);
    }
    expect(loadConfig({ PORT: '1' }).port).toBe(1);
    expect(loadConfig({ PORT: '65535' }).port).toBe(65535);
    expect(loadConfig({ PORT: ' 8080 ' }).port).toBe(8080);
  });

  it('whole numbers are digits only: hex, binary, octal and exponent forms are refused', () => {
    for (const bad of ['0xA0F0', '1e4', '0b1111101000', ' 0o7 ', '+80', '1_000']) {
      expect(problemsOf({ PORT: bad })).toEqual([expect.stringContaining(`PORT: must be a whole number from 1 to 65535, got ${JSON.stringify(bad)}`)]);
      expect(problemsOf({ LEASE_MS: bad })).toEqual([expect.stringMatching(/^LEASE_MS: must be a whole number/)]);
    }
    expect(loadConfig({ PORT: '' }).port).toBe(3000);
  });

  it('LOG_LEVEL must be a winston level', () => {
    expect(problemsOf({ LOG_LEVEL: 'verbos' })).toEqual(['LOG_LEVEL: must be one of error, warn, info, http, verbose, debug, silly, got "verbos"; leave it unset for info']);
    expect(loadConfig({ LOG_LEVEL: ' Debug ' }).logLevel).toBe('debug');
  });

  describe('RULES_DIR must be a folder', () => {
    let dir: string;
    beforeEach(() => {
      dir = tempDir('autotag-rules-dir-');
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('refuses one that does not exist, and a file', () => {
      const missing = path.join(dir, 'nope');
      expect(problemsOf({ RULES_DIR: missing })).toEqual([
        `RULES_DIR: ${JSON.stringify(missing)} does not exist; set RULES_DIR to the folder of your *.yaml rule files (relative to the working directory, or absolute)`,
      ]);
      const file = path.join(dir, 'rules.yaml');
      fs.writeFileSync(file, 'rules: []\n');
      expect(problemsOf({ RULES_DIR: file })).toEqual([expect.stringMatching(/^RULES_DIR: ".*rules\.yaml" is a file, not a folder; set RULES_DIR to the folder/)]);
      // A relative one names the folder it resolved to.
      expect(problemsOf({ RULES_DIR: 'no-such-rules' })).toEqual([expect.stringContaining(`RULES_DIR: "no-such-rules" (${path.resolve('no-such-rules')}) does not exist`)]);
      expect(loadConfig({ RULES_DIR: dir }).rulesDir).toBe(dir);
    });

    it('is not checked for the commands that need no rules', () => {
      expect(problemsOf({ RULES_DIR: path.join(dir, 'nope') }, { unsetVariables: 'warning' })).toEqual([]);
    });
  });

  describe('a provider partly configured', () => {
    it('MantaGo: a token without bot id or secret, or the other way round, names what is missing', () => {
      expect(problemsOf({ MANTAGO_TOKEN: 't' })).toEqual([
        'MANTAGO_BOT_ID and MANTAGO_SECRET: not set, but MANTAGO_TOKEN is, so MantaGo is only partly configured (it needs MANTAGO_BOT_ID, MANTAGO_TOKEN and MANTAGO_SECRET); ' +
          'set MANTAGO_BOT_ID and MANTAGO_SECRET, or unset MANTAGO_TOKEN to leave MantaGo off',
      ]);
      expect(problemsOf({ MANTAGO_TOKEN: 't', MANTAGO_SECRET: 's' })).toEqual([expect.stringMatching(/^MANTAGO_BOT_ID: not set, but MANTAGO_TOKEN and MANTAGO_SECRET are, so MantaGo/)]);
      expect(problemsOf({ MANTAGO_BOT_ID: '12', MANTAGO_SECRET: 's' })).toEqual([expect.stringMatching(/^MANTAGO_TOKEN: not set, but MANTAGO_BOT_ID and MANTAGO_SECRET are/)]);
      // Blank is unset (Heroku and Render keep empty config vars).
      expect(problemsOf({ MANTAGO_TOKEN: 't', MANTAGO_BOT_ID: ' ', MANTAGO_SECRET: 's' })).toEqual([expect.stringMatching(/^MANTAGO_BOT_ID: not set/)]);
    });

    it('BotBonnie: a bot id or LINE pid without the token', () => {
      expect(problemsOf({ BOTBONNIE_BOT_ID: 'bot-1' })).toEqual([
        'BOTBONNIE_TOKEN: not set, but BOTBONNIE_BOT_ID is, so BotBonnie is only partly configured (it needs BOTBONNIE_TOKEN); set BOTBONNIE_TOKEN, or unset BOTBONNIE_BOT_ID to leave BotBonnie off',
      ]);
      expect(problemsOf({ BOTBONNIE_TOKEN: 'bb' })).toEqual([]);
    });

    it('a base URL alone is no configuration (deploy files fill it in), and everything or nothing is fine', () => {
      expect(problemsOf({ MANTAGO_BASE_URL: 'https://mantago.cc/api', BOTBONNIE_BASE_URL: 'https://api.botbonnie.com' })).toEqual([]);
      expect(problemsOf({ MANTAGO_TOKEN: 't', MANTAGO_SECRET: 's', MANTAGO_BOT_ID: 'b' })).toEqual([]);
    });

    it('the variables come from the descriptors: every account key but a base URL is one of its variables', () => {
      for (const provider of PROVIDER_DESCRIPTORS) {
        for (const key of provider.accountKeys.filter((k) => !k.url)) expect(provider.variables).toContain(keyVariable(provider, key));
      }
      const renamed = { ...PROVIDER_DESCRIPTORS[0], variables: ['MANTAGO_TOKEN'] };
      expect(() => partlyConfiguredProblems({ MANTAGO_TOKEN: 't' }, [renamed])).toThrow(/account key bot_id has no environment variable MANTAGO_BOT_ID/);
    });
  });

  it('reports every problem at once', () => {
    expect(problemsOf({ PORT: '0', LOG_LEVEL: 'loud', RULES_DIR: '/nonexistent-rules', MANTAGO_TOKEN: 't', ADMIN_TOKEN: 'short' }).map((p) => p.split(':')[0])).toEqual([
      'PORT',
      'LOG_LEVEL',
      'ADMIN_TOKEN',
      'MANTAGO_BOT_ID and MANTAGO_SECRET',
      'RULES_DIR',
    ]);
  });
});

describe('the mount table (Render: a persistent disk is a mount of its own)', () => {
  const text = [
    '26 1 254:0 / / rw,relatime - overlay overlay rw',
    '27 26 254:16 / /var/data rw,relatime shared:1 - ext4 /dev/vdb rw',
    '28 26 254:17 / /mnt/my\\040disk rw - xfs /dev/vdc rw',
    '29 24 0:26 / /dev/shm rw,relatime - tmpfs tmpfs rw',
  ].join('\n');
  const mounts = parseMountInfo(text);

  it('reads mount points (escapes decoded) and filesystem types, optional fields or not', () => {
    expect(mounts).toEqual([
      { mountPoint: '/', fsType: 'overlay' },
      { mountPoint: '/var/data', fsType: 'ext4' },
      { mountPoint: '/mnt/my disk', fsType: 'xfs' },
      { mountPoint: '/dev/shm', fsType: 'tmpfs' },
    ]);
  });

  it('a folder is on the deepest mount that contains it; only a real disk other than / persists', () => {
    expect(mountOf('/var/data/autotag', mounts)?.mountPoint).toBe('/var/data');
    expect(isPersistentMount(mountOf('/var/data/autotag', mounts))).toBe(true);
    expect(isPersistentMount(mountOf('/mnt/my disk/x', mounts))).toBe(true);
    expect(isPersistentMount(mountOf('/var/database', mounts))).toBe(false);
    expect(isPersistentMount(mountOf('/dev/shm/x', mounts))).toBe(false);
    expect(isPersistentMount(mountOf('/app/data', mounts))).toBe(false);
  });
});
