/**
 * Profiles `serve` under bench/ack's load: the service (delivery worker on, fake MantaGo
 * in its own process) under autocannon for BENCH_PROFILE_SECONDS (default 8) with
 * `--cpu-prof`, then prints where its CPU time went: self time by package/area and the
 * heaviest functions. Not part of `npm run bench`; run it with
 * `tsc -p tsconfig.bench.json && node build-bench/bench/profile-serve.js [sqlite|postgres] [OUT_DIR]`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { benchSecrets, createBenchDir } from './lib/bench-env';
import { startChild } from './lib/child';
import { createLineWebhooks } from './lib/line-webhooks';
import { autocannonWebhooks, pacedWebhooks } from './lib/load';
import { benchDatabaseUrl, dropSchema, freshSchema } from './lib/postgres';
import { serviceEnv } from './lib/service-env';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function area(url: string, fn: string): string {
  if (fn === '(idle)' || fn === '(garbage collector)' || fn === '(program)') return fn;
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1] as string;
  if (url.includes('/dist/') || url.includes('/build-bench/')) return `service ${url.replace(/.*\/(dist|build-bench)\//, '').replace(/\/[^/]*$/, '')}`;
  if (url.startsWith('node:')) return url;
  return url === '' ? `native ${fn}` : url;
}

export function summarise(file: string, top = 30): string {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const areas = new Map<string, number>();
  const fns = new Map<string, number>();
  for (const [id, t] of self) {
    const n = byId.get(id);
    if (!n) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    const a = area(url, functionName);
    areas.set(a, (areas.get(a) ?? 0) + t);
    const f = `${functionName || '(anon)'} ${url.replace(/.*\/(node_modules|dist|build-bench)\//, '')}:${lineNumber + 1}`;
    fns.set(f, (fns.get(f) ?? 0) + t);
  }
  // Each sample charged to the nearest service file on its stack (what of ours caused it),
  // and to the outermost one (which part of the service: webhook route, worker, store…).
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const serviceFile = (id: number) => {
    const url = byId.get(id)?.callFrame.url ?? '';
    return /\/(dist|build-bench)\/src\//.test(url) ? url.replace(/.*\/(dist|build-bench)\/src\//, '') : undefined;
  };
  const nearest = new Map<string, number>();
  const outermost = new Map<string, number>();
  for (const [id, t] of self) {
    let cur: number | undefined = id;
    let near: string | undefined;
    let outer: string | undefined;
    while (cur !== undefined) {
      const f = serviceFile(cur);
      if (f) {
        near ??= f;
        outer = f;
      }
      cur = parent.get(cur);
    }
    const fn = byId.get(id)?.callFrame.functionName ?? '';
    const none = ['(idle)', '(garbage collector)', '(program)'].includes(fn) ? fn : 'no service frame';
    nearest.set(near ?? none, (nearest.get(near ?? none) ?? 0) + t);
    outermost.set(outer ?? none, (outermost.get(outer ?? none) ?? 0) + t);
  }
  const pct = (t: number) => `${((100 * t) / total).toFixed(1).padStart(5)} %`;
  const lines = [`total ${(total / 1e6).toFixed(2)} s sampled`, '', 'by area:'];
  for (const [a, t] of [...areas].sort((x, y) => y[1] - x[1]).slice(0, top)) lines.push(`  ${pct(t)}  ${a}`);
  lines.push('', 'by nearest service file on the stack:');
  for (const [a, t] of [...nearest].sort((x, y) => y[1] - x[1]).slice(0, top)) lines.push(`  ${pct(t)}  ${a}`);
  lines.push('', 'by outermost service file on the stack:');
  for (const [a, t] of [...outermost].sort((x, y) => y[1] - x[1]).slice(0, top)) lines.push(`  ${pct(t)}  ${a}`);
  lines.push('', 'by function (self):');
  for (const [f, t] of [...fns].sort((x, y) => y[1] - x[1]).slice(0, top)) lines.push(`  ${pct(t)}  ${f}`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const engine = process.argv[2] === 'postgres' ? 'postgres' : 'sqlite';
  const out = path.resolve(process.argv[3] ?? 'cpu-profiles');
  const mode = process.env.BENCH_PROFILE_MODE === 'open' ? 'open' : 'max';
  fs.mkdirSync(out, { recursive: true });
  const seconds = Number(process.env.BENCH_PROFILE_SECONDS ?? 8);
  const dir = createBenchDir('profile');
  const s = benchSecrets();
  const api = await startChild('tag-api', { BENCH_TAG_TOKEN: s.mantagoToken, BENCH_TAG_LATENCY_MS: '20' }, dir.logFile('tag-api'));
  const pgUrl = benchDatabaseUrl();
  const schema = freshSchema('profile');
  const env = serviceEnv({
    dir,
    data: 'serve',
    lineSecret: s.lineSecret,
    api: { tagApi: { baseUrl: `${api.url}/api` }, token: s.mantagoToken, secret: s.mantagoSecret },
    ...(engine === 'postgres' ? { postgres: { url: pgUrl, schema } } : {}),
  });
  const next = createLineWebhooks({ secret: s.lineSecret }).next;
  const before = new Set(fs.readdirSync(out));
  process.env.BENCH_CPU_PROF = out;
  const serve = await startChild('service', env, dir.logFile('service'));
  delete process.env.BENCH_CPU_PROF;
  try {
    await autocannonWebhooks({ url: serve.url, connections: 64, durationS: 1, next });
    const u0 = await serve.usage();
    const r =
      mode === 'open'
        ? await pacedWebhooks({ url: serve.url, rate: 1000, count: 1000 * seconds, connections: 64, next })
        : await autocannonWebhooks({ url: serve.url, connections: 64, durationS: seconds, next });
    const u1 = await serve.usage();
    console.log(`${engine} ${mode}: ${r.okPerSecond.toFixed(0)} req/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, CPU ${((u1.cpuMicros - u0.cpuMicros) / 1000 / r.ok).toFixed(3)} ms per webhook, failed ${r.failed}`);
  } finally {
    await serve.stop();
    await api.stop();
    if (engine === 'postgres') await dropSchema(pgUrl, schema);
    dir.cleanup();
  }
  const made = fs.readdirSync(out).filter((f) => !before.has(f) && f.endsWith('.cpuprofile'));
  for (const f of made) {
    console.log(`\n${path.join(out, f)}`);
    console.log(summarise(path.join(out, f)));
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  });
}
