import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database, { DRIVER_PACKAGE, driverPackageFor } from '../../src/store/sqlite/driver';
import Ajv from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import dockerignore from '@balena/dockerignore';
import { parse } from 'yaml';
import { CONFIG_VARIABLES } from '../../src/config';
import { ENVIRONMENT_ENDPOINTS } from '../../src/platforms/endpoints';
import { PROVIDERS, providerNamed } from '../../src/providers';

/**
 * The deploy files (Procfile, app.json, render.yaml, Dockerfile, .dockerignore,
 * compose.yaml) checked against the platforms' published schemas (vendored under
 * test/fixtures/deploy-schemas, sources in its README) and against each other.
 * Docker itself cannot run here; what can be checked without it is checked.
 */

const root = path.resolve(__dirname, '../..');
const read = (f: string) => fs.readFileSync(path.join(root, f), 'utf8');
const schema = (f: string) => JSON.parse(read(`test/fixtures/deploy-schemas/${f}`)) as object;

/** Every variable CONTRACT.md lists that a deployer sets (PORT and DATABASE_URL come from the platform). */
const DEPLOYER_VARIABLES = [
  'LINE_CHANNEL_SECRET', 'LINE_FORWARD_URLS', 'FACEBOOK_APP_SECRET', 'FACEBOOK_VERIFY_TOKEN', 'FACEBOOK_FORWARD_URLS',
  'WHATSAPP_APP_SECRET', 'WHATSAPP_VERIFY_TOKEN', 'WHATSAPP_FORWARD_URLS',
  'MANTAGO_BASE_URL', 'MANTAGO_BOT_ID', 'MANTAGO_TOKEN', 'MANTAGO_SECRET',
  'BOTBONNIE_BASE_URL', 'BOTBONNIE_TOKEN', 'BOTBONNIE_BOT_ID', 'BOTBONNIE_LINE_PID',
  'ADMIN_TOKEN', 'TRUST_PROXY_HOPS', 'METRICS_TOKEN', 'HISTORY_STORE_TEXT', 'HISTORY_RETENTION_DAYS', 'RULES_DIR', 'LOG_LEVEL', 'MAX_BODY_BYTES',
  'RETRY_MIN_MS', 'RETRY_MAX_MS', 'RETRY_GIVE_UP_MS', 'RETRY_404_TIMES', 'FORWARD_GIVE_UP_MS', 'FORWARD_TIMEOUT_MS', 'LEASE_MS',
];

/** Secrets are never written into a deploy file: asked for, or generated. */
const SECRETS = ['LINE_CHANNEL_SECRET', 'FACEBOOK_APP_SECRET', 'FACEBOOK_VERIFY_TOKEN', 'MANTAGO_TOKEN', 'MANTAGO_SECRET', 'BOTBONNIE_TOKEN', 'ADMIN_TOKEN', 'METRICS_TOKEN'];

/**
 * Variables of CONTRACT.md that compose.yaml sets before this version reads them
 * (added by parallel work): TRUST_PROXY_HOPS is issue 17 part 8. Any other name
 * in a deploy file must be one the configuration reads.
 */
const CONTRACT_VARIABLES_NOT_READ_YET: string[] = [];
const isConfigVariable = (name: string) => CONFIG_VARIABLES.includes(name) || CONTRACT_VARIABLES_NOT_READ_YET.includes(name);

function errorsOf(validate: { errors?: unknown }): string {
  return JSON.stringify(validate.errors, null, 2);
}

/** The command every start path runs: package.json's start script without its `exec`. */
function serveCommand(): string {
  const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
  const start = pkg.scripts.start ?? '';
  expect(start.startsWith('exec ')).toBe(true); // so npm's SIGTERM reaches node, not a shell
  return start.slice('exec '.length);
}

describe('Procfile and package.json', () => {
  it('web runs the service command directly, and the release phase migrates', () => {
    const lines = read('Procfile').trim().split('\n');
    expect(lines).toContain(`web: ${serveCommand()}`);
    expect(serveCommand()).toBe('node --max-old-space-size=192 dist/cli.js serve');
    expect(lines).toContain('release: node dist/cli.js migrate');
  });

  it('installs better-sqlite3 12 for Node 20/22 and 13 (as better-sqlite3-napi) for Node 24+, and loads the right one', () => {
    const majorOf = (pkgName: string) =>
      Number((JSON.parse(read(`node_modules/${pkgName}/package.json`)) as { version: string }).version.split('.')[0]);
    expect(majorOf('better-sqlite3')).toBe(12);
    expect(majorOf('better-sqlite3-napi')).toBe(13);
    expect([20, 22, 24, 26].map(driverPackageFor)).toEqual(['better-sqlite3', 'better-sqlite3', 'better-sqlite3-napi', 'better-sqlite3-napi']);
    // The one loaded here is the one for this Node.js, and it works.
    expect(DRIVER_PACKAGE).toBe(driverPackageFor(Number(process.versions.node.split('.')[0])));
    const db = new Database(':memory:');
    expect(db.prepare('select 1 as one').get()).toEqual({ one: 1 });
    db.close();
  });

  it('engines allows Node.js 20.18 and every later major, and names the bin', () => {
    const pkg = JSON.parse(read('package.json')) as { engines: { node: string }; bin: Record<string, string>; license: string };
    expect(pkg.engines.node).toBe('>=20.18');
    expect(pkg.bin.autotag).toBe('dist/cli.js');
    expect(pkg.license).toBe('MIT');
  });
});

describe('prepare (scripts/prepare.js): npx autotag where TypeScript was pruned (Heroku, the Docker image)', () => {
  // A copy of the script in a folder of its own, outside the repository: no node_modules above it.
  function checkout(withDist: boolean): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autotag-prepare-'));
    fs.mkdirSync(path.join(dir, 'scripts'));
    fs.copyFileSync(path.join(root, 'scripts', 'prepare.js'), path.join(dir, 'scripts', 'prepare.js'));
    if (withDist) {
      fs.mkdirSync(path.join(dir, 'dist'));
      fs.writeFileSync(path.join(dir, 'dist', 'cli.js'), '// built at deploy time\n');
    }
    return dir;
  }
  const prepare = (dir: string) => spawnSync(process.execPath, [path.join(dir, 'scripts', 'prepare.js')], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });

  it('is what npm runs as prepare', () => {
    expect((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.prepare).toBe('node scripts/prepare.js');
  });

  it('without TypeScript, keeps the dist/ built at deploy time and succeeds; without dist/ either, fails saying what to do', () => {
    const built = checkout(true);
    const bare = checkout(false);
    try {
      const kept = prepare(built);
      expect(kept.status).toBe(0);
      expect(fs.readFileSync(path.join(built, 'dist', 'cli.js'), 'utf8')).toBe('// built at deploy time\n');
      const missing = prepare(bare);
      expect(missing.status).toBe(1);
      expect(missing.stderr).toContain('prepare: dist/ is not built and TypeScript is not installed here: run `npm ci` with the dev dependencies');
    } finally {
      fs.rmSync(built, { recursive: true, force: true });
      fs.rmSync(bare, { recursive: true, force: true });
    }
  });
});

describe('app.json (Heroku)', () => {
  const app = JSON.parse(read('app.json')) as {
    env: Record<string, { description?: string; required?: boolean; generator?: string; value?: string }>;
    addons: { plan: string; as?: string }[];
    success_url: string;
  };

  it("is valid against Heroku's app.json schema", () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    const validate = ajv.compile(schema('heroku-app.json.schema.json'));
    expect(validate(app) ? '' : errorsOf(validate)).toBe('');
  });

  it('describes every variable, requires none (a LINE-only or a Meta-only deploy leaves the others empty), and names only real ones', () => {
    for (const v of DEPLOYER_VARIABLES) expect(app.env[v]?.description?.length ?? 0).toBeGreaterThan(10);
    expect(Object.entries(app.env).filter(([, e]) => e.required === true).map(([k]) => k)).toEqual([]);
    expect(Object.keys(app.env).filter((k) => !isConfigVariable(k))).toEqual([]);
    for (const s of SECRETS) expect(app.env[s]?.value).toBeUndefined();
  });

  it('generates ADMIN_TOKEN and METRICS_TOKEN, adds Heroku Postgres as DATABASE and leads to /admin', () => {
    expect(app.env.ADMIN_TOKEN?.generator).toBe('secret');
    expect(app.env.METRICS_TOKEN?.generator).toBe('secret');
    expect(app.addons.some((a) => a.plan.startsWith('heroku-postgresql') && (a.as ?? 'DATABASE') === 'DATABASE')).toBe(true);
    expect(app.success_url).toBe('/admin');
  });
});

describe('render.yaml (Render Blueprint)', () => {
  type EnvVar = { key: string; value?: string; generateValue?: boolean; sync?: boolean; fromDatabase?: { name: string; property: string } };
  const blueprint = parse(read('render.yaml')) as {
    services: { type: string; region?: string; healthCheckPath: string; startCommand: string; buildCommand: string; envVars: EnvVar[] }[];
    databases: { name: string; region?: string; ipAllowList?: { source: string }[] }[];
  };
  const web = blueprint.services.find((s) => s.type === 'web')!;
  const env = (key: string) => web.envVars.find((e) => e.key === key);

  it("is valid against Render's published Blueprint schema", () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const validate = ajv.compile(schema('render.yaml.schema.json'));
    expect(validate(blueprint) ? '' : errorsOf(validate)).toBe('');
  });

  it('starts node directly with the Procfile command, checks /readyz and wires the database to DATABASE_URL', () => {
    expect(web.startCommand).toBe(serveCommand());
    // With the dev dependencies even when NODE_ENV=production is added: `prepare` compiles with TypeScript.
    expect(web.buildCommand).toBe('npm ci --include=dev');
    expect(web.healthCheckPath).toBe('/readyz');
    expect(blueprint.databases.map((d) => d.name)).toContain(env('DATABASE_URL')?.fromDatabase?.name);
  });

  it('keeps the database off the internet, in the service region (Singapore)', () => {
    const db = blueprint.databases[0]!;
    // Render: an empty list allows internal connections only; no entry may open it to everyone.
    expect(db.ipAllowList).toEqual([]);
    expect(web.region).toBe('singapore');
    expect(db.region).toBe(web.region);
  });

  it('generates ADMIN_TOKEN and METRICS_TOKEN, asks for the secrets, and names only real variables', () => {
    expect(env('ADMIN_TOKEN')?.generateValue).toBe(true);
    expect(env('METRICS_TOKEN')?.generateValue).toBe(true);
    for (const s of SECRETS) {
      const e = env(s);
      if (e) expect(e.value).toBeUndefined();
    }
    // NODE_VERSION is read by Render's build, not by the service.
    expect(web.envVars.map((e) => e.key).filter((k) => k !== 'NODE_VERSION' && !isConfigVariable(k))).toEqual([]);
  });
});

describe('Dockerfile and .dockerignore', () => {
  const dockerfile = read('Dockerfile');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages = instructions.reduce<string[][]>((acc, l) => {
    if (/^FROM /i.test(l)) acc.push([]);
    acc[acc.length - 1]?.push(l);
    return acc;
  }, []);
  const final = stages[stages.length - 1]!;

  it('is multi-stage, runs as a non-root user, and the final stage gets production dependencies only', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(final[0]).toMatch(/^FROM node:\d+-slim$/);
    const user = final.find((l) => /^USER /.test(l))?.slice(5).trim();
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    // node_modules reaches the final image only from the build stage, after the dev dependencies were pruned.
    expect(final.filter((l) => /node_modules/.test(l))).toEqual(['COPY --from=build /app/node_modules ./node_modules']);
    const build = stages[0]!;
    const prune = build.findIndex((l) => /npm prune --omit=dev/.test(l));
    expect(prune).toBeGreaterThan(build.findIndex((l) => /npm run build/.test(l)) - 1);
    expect(final.some((l) => /^RUN .*npm (ci|install)/.test(l))).toBe(false);
  });

  it('puts the command on PATH as `autotag`: executable, with a shebang, linked from /usr/local/bin (npx cannot link the root-owned app as the node user)', () => {
    const build = stages[0]!;
    expect(build.find((l) => /npm run build/.test(l))).toMatch(/npm run build && chmod 755 dist\/cli\.js/);
    const userAt = final.findIndex((l) => /^USER /.test(l));
    const link = final.findIndex((l) => /^RUN .*ln -s \/app\/dist\/cli\.js \/usr\/local\/bin\/autotag/.test(l));
    expect(link).toBeGreaterThan(-1);
    expect(link).toBeLessThan(userAt); // linked as root
    expect(read('src/cli.ts').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('runs the Procfile command, handles SIGTERM and checks /readyz', () => {
    const cmd = final.find((l) => /^CMD /.test(l))!;
    expect((JSON.parse(cmd.slice(4)) as string[]).join(' ')).toBe(serveCommand());
    expect(final).toContain('STOPSIGNAL SIGTERM');
    expect(final.find((l) => /^HEALTHCHECK /.test(l))).toMatch(/\/readyz/);
  });

  it('the build context holds what the build copies and nothing of node_modules, dist, data, .git or .env', () => {
    const ig = dockerignore({ ignorecase: false }).add(read('.dockerignore'));
    const inContext = (p: string) => !ig.ignores(p);
    // What the Dockerfile copies from the context.
    const copied = [...new Set(instructions.filter((l) => /^COPY (?!--from)/.test(l)).flatMap((l) => l.split(/\s+/).slice(1, -1)))];
    expect(copied.sort()).toEqual(['package-lock.json', 'package.json', 'rules', 'scripts', 'src', 'tsconfig.build.json', 'tsconfig.json'].sort());
    for (const c of copied) {
      expect(fs.existsSync(path.join(root, c))).toBe(true);
      expect(inContext(c)).toBe(true);
    }
    // Every file the compiler reads: src (tsconfig.build.json's include) and the tsconfig it extends.
    const build = JSON.parse(read('tsconfig.build.json')) as { extends: string; include: string[] };
    expect(build.include).toEqual(['src']);
    expect(inContext(path.normalize(build.extends))).toBe(true);
    for (const f of walk(path.join(root, 'src'))) expect(inContext(path.relative(root, f))).toBe(true);
    for (const f of walk(path.join(root, 'rules'))) expect(inContext(path.relative(root, f))).toBe(true);
    // …and what must stay out.
    for (const p of ['node_modules/pg/package.json', 'dist/cli.js', 'data/autotag.db', '.git/HEAD', '.env', 'test/unit/deploy-files.test.ts', 'build-bench/bench/run-all.js', 'coverage/lcov.info']) {
      expect({ p, inContext: inContext(p) }).toEqual({ p, inContext: false });
    }
  });

  it('no source file imports from outside src (the image has nothing else to compile)', () => {
    for (const f of walk(path.join(root, 'src')).filter((x) => x.endsWith('.ts'))) {
      for (const m of read(path.relative(root, f)).matchAll(/from '(\.[^']*)'|import\('(\.[^']*)'\)/g)) {
        const target = path.resolve(path.dirname(f), m[1] ?? m[2] ?? '');
        expect(path.relative(path.join(root, 'src'), target).startsWith('..')).toBe(false);
      }
    }
  });
});

describe('compose.yaml', () => {
  type Service = {
    build?: string;
    image?: string;
    init?: boolean;
    environment?: Record<string, string>;
    volumes?: string[];
    depends_on?: Record<string, { condition: string }>;
    healthcheck?: unknown;
  };
  const compose = parse(read('compose.yaml')) as { services: Record<string, Service>; volumes: Record<string, unknown> };
  const autotag = compose.services.autotag!;
  const db = compose.services.db!;

  it('is valid against the Compose specification schema', () => {
    const ajv = new Ajv({ strict: false, allErrors: true, logger: false });
    addFormats(ajv);
    // Its $schema names draft-07 as https://…/schema (no '#'), a spelling Ajv does not know; the schema is draft-07.
    const { $schema: _draft, ...spec } = schema('compose-spec.schema.json') as { $schema?: string };
    const validate = ajv.compile(spec);
    expect(validate(compose) ? '' : errorsOf(validate)).toBe('');
  });

  it('runs the image with PostgreSQL on a volume, nothing in front (TRUST_PROXY_HOPS=0), and only real variables', () => {
    expect(autotag.build).toBe('.');
    expect(autotag.init).toBe(true);
    const env = autotag.environment ?? {};
    expect(Object.keys(env).filter((k) => !isConfigVariable(k))).toEqual([]);
    // 0 unless .env says otherwise (behind a reverse proxy).
    expect(env.TRUST_PROXY_HOPS).toBe('${TRUST_PROXY_HOPS:-0}');
    const dbUrl = new URL(env.DATABASE_URL ?? '');
    expect(compose.services[dbUrl.hostname]).toBe(db);
    expect(autotag.depends_on?.[dbUrl.hostname]?.condition).toBe('service_healthy');
    expect(db.healthcheck).toBeDefined();
    const [volume] = (db.volumes?.[0] ?? '').split(':');
    expect(Object.keys(compose.volumes)).toContain(volume);
    // Secrets only from the environment of `docker compose up` (or .env), never written here.
    for (const s of SECRETS) if (env[s] !== undefined) expect(env[s]).toBe(`\${${s}:-}`);
  });
});

/**
 * What a deploy of any of the platforms needs set: every endpoint's secret, verify token and
 * forward URLs, and every provider's variables (their base URLs aside), and the channels file.
 */
const DEPLOY_VARIABLES = [
  ...ENVIRONMENT_ENDPOINTS.flatMap((e) => [...e.secret, ...(e.verifyToken ?? []), e.forwardUrls]),
  ...PROVIDERS.flatMap((p) => providerNamed(p).variables.filter((v) => !v.endsWith('_BASE_URL'))),
];

describe('every deploy file passes what each platform and provider needs', () => {
  const missing = (names: readonly string[]) => [...new Set(DEPLOY_VARIABLES)].filter((v) => !names.includes(v));
  it('app.json, render.yaml and compose.yaml name every endpoint secret, verify token, forward URL list and provider variable', () => {
    expect(missing(Object.keys((JSON.parse(read('app.json')) as { env: Record<string, unknown> }).env))).toEqual([]);
    const render = parse(read('render.yaml')) as { services: { envVars?: { key: string }[] }[] };
    expect(missing(render.services.flatMap((x) => (x.envVars ?? []).map((e) => e.key)))).toEqual([]);
    const compose = parse(read('compose.yaml')) as { services: Record<string, { environment?: Record<string, string> }> };
    const composeEnv = Object.keys(compose.services.autotag?.environment ?? {});
    expect(missing(composeEnv)).toEqual([]);
    // The channels file can be mounted and named.
    expect(composeEnv).toContain('CHANNELS_FILE');
  });

  it('compose.yaml passes every other variable from .env too, but those the container fixes', () => {
    const compose = parse(read('compose.yaml')) as { services: Record<string, { environment?: Record<string, string> }> };
    const composeEnv = Object.keys(compose.services.autotag?.environment ?? {});
    // The image's port and folders (mounted), the db container's plain TCP, and the platforms' own markers.
    const fixedByTheContainer = ['PORT', 'RULES_DIR', 'DATA_DIR', 'PGSSLMODE', 'PGSSLROOTCERT', 'SSL_CERT_FILE', 'PGSSLCERT', 'PGSSLKEY', 'DYNO', 'RENDER'];
    expect(CONFIG_VARIABLES.filter((v) => !composeEnv.includes(v) && !fixedByTheContainer.includes(v))).toEqual([]);
  });
});

describe('LICENSE and CHANGELOG.md', () => {
  it("LICENSE is the MIT licence package.json names; the changelog has an Unreleased section and the package's version", () => {
    const pkg = JSON.parse(read('package.json')) as { license: string; version: string };
    expect(pkg.license).toBe('MIT');
    expect(read('LICENSE')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} the chat-autotag authors\n/);
    const changelog = read('CHANGELOG.md');
    const versions = [...changelog.matchAll(/^## \[([^\]]+)\]/gm)].map((m) => m[1]);
    expect(versions[0]).toBe('Unreleased');
    expect(versions).toContain(pkg.version);
  });
});

describe('README', () => {
  it("reads in a newcomer's order: what it is, the two commands, configuration, rules, deploying (Heroku, Render), operations", () => {
    const readme = read('README.md');
    const at = (heading: string) => {
      const i = readme.indexOf(`\n${heading}\n`);
      expect([heading, i > 0]).toEqual([heading, true]);
      return i;
    };
    const order = ['## Quick start', '## Configuration', '## Rules', '## Deploying', '### Heroku', '### Render', '## Operations'].map(at);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    const quickStart = readme.slice(at('## Quick start'), at('## Configuration'));
    expect(quickStart).toContain('npm ci && npm start');
    expect(quickStart).toContain('npm test');
    // Nothing of its own between the two commands and the configuration (internals come later).
    expect(quickStart.split('\n').filter((l) => l.startsWith('## '))).toEqual(['## Quick start']);
    // What it is comes before anything else.
    expect(readme.indexOf('MantaGo')).toBeLessThan(order[0] as number);
  });

  it('names the PostgreSQL release its statements need at least, in the deploy section and the changelog', () => {
    // SQL the PostgreSQL store uses that older servers refuse, with the release that added it
    // (a statement using something newer raises the minimum: add it here).
    const added: [RegExp, number][] = [
      [/\bAS\s+(NOT\s+)?MATERIALIZED\b/i, 12],
      [/\bMERGE\s+INTO\b/i, 15],
      [/\bNULLS\s+NOT\s+DISTINCT\b/i, 15],
      [/\bWITH\s+TIES\b/i, 13],
      [/\bhashtextextended\b/, 11],
    ];
    const sources = walk(path.join(root, 'src/store')).filter((f) => f.endsWith('.ts')).map((f) => fs.readFileSync(f, 'utf8'));
    const needed = Math.max(...added.filter(([re]) => sources.some((t) => re.test(t))).map(([, v]) => v));
    expect(needed).toBeGreaterThan(0);
    const readme = read('README.md');
    const deploying = readme.slice(readme.indexOf('\n## Deploying\n'), readme.indexOf('\n## Operations\n'));
    const section = deploying.slice(deploying.indexOf('\n### Supported PostgreSQL versions\n'));
    expect(section.startsWith('\n### Supported PostgreSQL versions\n\nPostgreSQL ' + String(needed) + ' or later.')).toBe(true);
    const unreleased = read('CHANGELOG.md').split('\n## [')[1] ?? '';
    expect(unreleased).toContain(`PostgreSQL ${needed} or later is needed`);
  });

  it('has Deploy to Heroku and Deploy to Render buttons with the repository as a placeholder', () => {
    const readme = read('README.md');
    expect(readme).toMatch(/\(https:\/\/heroku\.com\/deploy\?template=https:\/\/github\.com\/YOUR-ACCOUNT\/chat-autotag\)/);
    expect(readme).toMatch(/\(https:\/\/render\.com\/deploy\?repo=https:\/\/github\.com\/YOUR-ACCOUNT\/chat-autotag\)/);
  });
});

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}
