/**
 * Forward claims beside a failing destination's backlog, no HTTP: the store's claim for a
 * healthy destination (and the failing one's own claim, and each one's next-due check)
 * while BENCH_BACKLOG forwards (default 50,000, each its own ordering key, as when every webhook
 * comes from a new user) wait for their retry to another destination — against the same claims
 * with no backlog at all, measured in the same run. A claim that read every pending forward of
 * every destination cost in proportion to the backlog (CONTRACT.md: one destination's failures
 * never delay another). PostgreSQL's table is analysed once the backlog is written, as autovacuum
 * would have done by then (without statistics its planner reads the backlog once per candidate
 * in a large claim, with or without this fix). Not part of `npm run bench`:
 * `tsc -p tsconfig.bench.json && node build-bench/bench/forward-claims.js [sqlite|postgres|both]`.
 */
import { createLogger } from '../src/log';
import { createPostgresStore } from '../src/store/postgres';
import { createSqliteStore } from '../src/store/sqlite';
import type { Store } from '../src/store/store';
import { batch, forwardTo } from '../test/store/builders';
import { createBenchDir } from './lib/bench-env';
import pg from 'pg';
import { benchDatabaseUrl, dropSchema, freshSchema } from './lib/postgres';
import { emitResult, round, type Figure } from './lib/report';

const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 50_000);
const ROUNDS = 50;
const FAILING = 'https://failing.example/hook';
const HEALTHY = 'https://healthy.example/hook';

/** Milliseconds per call of `fn`, over ROUNDS calls. */
async function perCall(fn: (i: number) => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < ROUNDS; i++) await fn(i);
  return (performance.now() - t0) / ROUNDS;
}

interface Measured {
  healthy: number;
  failing: number;
  nextDue: number;
  failingNextDue: number;
}

/** Claims for the healthy and the failing destination, and the healthy one's next-due check, with `backlog` forwards waiting for the failing one. */
async function measure(store: Store, backlog: number, analyze: () => Promise<void>): Promise<Measured> {
  for (let done = 0; done < backlog; done += 1000) {
    const n = Math.min(1000, backlog - done);
    await store.accept(batch(1000, [], Array.from({ length: n }, (_, i) => forwardTo(FAILING, `U${done + i}`))));
  }
  await analyze();
  // Each tried once and failed: waiting for a retry far ahead.
  for (;;) {
    const page = await store.claimForwards({ destinations: [FAILING], limit: 5000, owner: 'bench', now: 2000, leaseMs: 60_000 });
    if (page.length === 0) break;
    for (const f of page) await store.retryForward(f, 'bench', 2000, { dueAt: 1e12, status: 500, error: 'failing' });
  }
  await store.accept(batch(3000, [], [forwardTo(HEALTHY, 'V1')]));
  return {
    // Each round a new owner and a later now: the one healthy forward is claimed again each time.
    healthy: await perCall((i) => store.claimForwards({ destinations: [HEALTHY], limit: 8, owner: `h${i}`, now: 4000 + i * 100_000, leaseMs: 1 })),
    failing: await perCall((i) => store.claimForwards({ destinations: [FAILING], limit: 8, owner: `f${i}`, now: 5000, leaseMs: 1 })),
    nextDue: await perCall(() => store.nextDueAt('forwards', HEALTHY)),
    failingNextDue: await perCall(() => store.nextDueAt('forwards', FAILING)),
  };
}

interface Opened {
  store: Store;
  done: () => Promise<void>;
  /** What autovacuum would have done by then (PostgreSQL: ANALYZE; this machine runs with autovacuum off). */
  analyze: () => Promise<void>;
}

async function engine(name: string, open: () => Promise<Opened>): Promise<Record<string, Figure>> {
  const out: Record<string, Figure> = {};
  const results: Record<string, Measured> = {};
  for (const backlog of [0, BACKLOG]) {
    const { store, done, analyze } = await open();
    try {
      results[backlog] = await measure(store, backlog, analyze);
    } finally {
      await done();
    }
  }
  const [base, loaded] = [results[0]!, results[BACKLOG]!];
  for (const k of ['healthy', 'failing', 'nextDue', 'failingNextDue'] as const) {
    out[`${name}_${k}_ms`] = round(loaded[k], 3);
    out[`${name}_${k}_baseline_ms`] = round(base[k], 3);
    out[`${name}_${k}_ratio`] = round(loaded[k] / base[k], 2);
  }
  console.log(
    `${name}: with ${BACKLOG.toLocaleString('en')} forwards waiting for another destination, a claim ${loaded.healthy.toFixed(3)} ms (${base.healthy.toFixed(3)} ms with none: ${(loaded.healthy / base.healthy).toFixed(2)} ×), ` +
      `the failing destination's own claim ${loaded.failing.toFixed(3)} ms (${(loaded.failing / base.failing).toFixed(2)} ×), a next-due check ${loaded.nextDue.toFixed(3)} ms (${(loaded.nextDue / base.nextDue).toFixed(2)} ×), ` +
      `the failing destination's own next-due check ${loaded.failingNextDue.toFixed(3)} ms (${(loaded.failingNextDue / base.failingNextDue).toFixed(2)} ×)`,
  );
  return out;
}

async function main(): Promise<void> {
  const log = createLogger({ level: 'warn', secrets: [] });
  const which = process.argv[2] ?? 'both';
  const figures: Record<string, Figure> = { backlog: BACKLOG, rounds: ROUNDS };
  if (which !== 'postgres') {
    const dir = createBenchDir('forward-claims');
    let n = 0;
    Object.assign(
      figures,
      await engine('sqlite', async () => {
        const store = createSqliteStore({ file: `${dir.dataDir(`s${++n}`)}/a.db`, log });
        await store.migrate();
        return { store, done: () => store.close(), analyze: async () => undefined };
      }),
    );
    dir.cleanup();
  }
  if (which !== 'sqlite') {
    const url = benchDatabaseUrl();
    Object.assign(
      figures,
      await engine('postgres', async () => {
        const schema = freshSchema('fwdclaims');
        const store = createPostgresStore({ url, log, poolSize: 4, connectTimeoutMs: 5000, statementTimeoutMs: 60_000, schema });
        await store.migrate();
        const analyze = async () => {
          const client = new pg.Client({ connectionString: url });
          await client.connect();
          try {
            await client.query(`ANALYZE "${schema}".forwards`);
          } finally {
            await client.end();
          }
        };
        return { store, analyze, done: async () => { await store.close(); await dropSchema(url, schema); } };
      }),
    );
  }
  emitResult('forward-claims', figures);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
