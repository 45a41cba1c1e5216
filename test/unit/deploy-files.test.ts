import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

const root = path.resolve(__dirname, '../..');
const read = (f: string) => fs.readFileSync(path.join(root, f), 'utf8');

/** Every variable CONTRACT.md lists that a deployer sets (PORT and DATABASE_URL come from the platform). */
const DEPLOYER_VARIABLES = [
  'LINE_CHANNEL_SECRET', 'LINE_FORWARD_URLS', 'FACEBOOK_APP_SECRET', 'FACEBOOK_VERIFY_TOKEN', 'FACEBOOK_FORWARD_URLS',
  'WHATSAPP_APP_SECRET', 'WHATSAPP_VERIFY_TOKEN', 'WHATSAPP_FORWARD_URLS',
  'MANTAGO_BASE_URL', 'MANTAGO_BOT_ID', 'MANTAGO_TOKEN', 'MANTAGO_SECRET',
  'BOTBONNIE_BASE_URL', 'BOTBONNIE_TOKEN', 'BOTBONNIE_BOT_ID', 'BOTBONNIE_LINE_PID',
  'ADMIN_TOKEN', 'TRUST_PROXY_HOPS', 'HISTORY_STORE_TEXT', 'HISTORY_RETENTION_DAYS', 'RULES_DIR', 'LOG_LEVEL', 'MAX_BODY_BYTES',
  'RETRY_MIN_MS', 'RETRY_MAX_MS', 'RETRY_GIVE_UP_MS', 'RETRY_404_TIMES', 'FORWARD_GIVE_UP_MS', 'FORWARD_TIMEOUT_MS', 'LEASE_MS',
];

describe('deploy files', () => {
  it('Procfile runs the service on web and migrates in the release phase', () => {
    const lines = read('Procfile').trim().split('\n');
    expect(lines).toContain('web: node --max-old-space-size=192 dist/cli.js serve');
    expect(lines).toContain('release: node dist/cli.js migrate');
  });

  it('app.json describes every variable and adds Heroku Postgres as DATABASE', () => {
    const app = JSON.parse(read('app.json')) as { env: Record<string, { description?: string }>; addons: { plan: string; as?: string }[] };
    for (const v of DEPLOYER_VARIABLES) {
      expect(app.env[v]).toBeDefined();
      expect(app.env[v]?.description?.length).toBeGreaterThan(10);
    }
    expect(app.addons.some((a) => a.plan.startsWith('heroku-postgresql') && (a.as ?? 'DATABASE') === 'DATABASE')).toBe(true);
  });

  it('render.yaml has the web service with /readyz and a PostgreSQL database wired to DATABASE_URL', () => {
    const r = parse(read('render.yaml')) as {
      services: { type: string; healthCheckPath: string; startCommand: string; envVars: { key: string; fromDatabase?: { name: string } }[] }[];
      databases: { name: string }[];
    };
    const web = r.services.find((s) => s.type === 'web');
    expect(web?.healthCheckPath).toBe('/readyz');
    expect(web?.startCommand).toBe('npm start');
    const db = web?.envVars.find((e) => e.key === 'DATABASE_URL');
    expect(r.databases.map((d) => d.name)).toContain(db?.fromDatabase?.name);
  });

  it('package.json starts the service and keeps the engines field', () => {
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string>; engines: { node: string }; bin: Record<string, string> };
    expect(pkg.scripts.start).toBe('node --max-old-space-size=192 dist/cli.js serve');
    expect(pkg.engines.node).toBe('>=20.18');
    expect(pkg.bin.autotag).toBe('dist/cli.js');
  });
});
