/**
 * The store's accept alone, no HTTP: `CONCURRENCY` callers each accept one webhook
 * (one event, one operation, as bench/ack sends) and accept the next as soon as it
 * resolves, for BENCH_SECONDS (default 5). Prints accepts/s per engine. A tool for
 * finding where the ack path's time goes; not part of `npm run bench`.
 */
import { createLogger } from '../src/log';
import { createPostgresStore } from '../src/store/postgres';
import { createSqliteStore } from '../src/store/sqlite';
import type { Store } from '../src/store/store';
import { accepted, batch, tagOp } from '../test/store/builders';
import { benchDatabaseUrl, dropSchema, freshSchema } from './lib/postgres';
import { createBenchDir } from './lib/bench-env';

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);

async function drive(store: Store): Promise<number> {
  let n = 0;
  let done = 0;
  const end = Date.now() + SECONDS * 1000;
  const run = async () => {
    while (Date.now() < end) {
      const i = n++;
      const user = `U${i}`;
      await store.accept(batch(Date.now(), [accepted(`ev-${i}`, [tagOp({ userId: user })], { event: { userId: user, timestamp: Date.now() } })]));
      done++;
    }
  };
  const t0 = Date.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, run));
  return done / ((Date.now() - t0) / 1000);
}

async function main(): Promise<void> {
  const log = createLogger({ level: 'warn', secrets: [] });
  const which = process.argv[2] ?? 'both';
  if (which !== 'postgres') {
    const dir = createBenchDir('store');
    const store = createSqliteStore({ file: `${dir.dataDir('s')}/a.db`, log });
    await store.migrate();
    console.log(`sqlite: ${(await drive(store)).toFixed(0)} accepts/s at ${CONCURRENCY} in flight`);
    await store.close();
    dir.cleanup();
  }
  if (which !== 'sqlite') {
    const url = benchDatabaseUrl();
    const schema = freshSchema('store');
    const store = createPostgresStore({ url, log, poolSize: 10, connectTimeoutMs: 5000, statementTimeoutMs: 10000, schema });
    await store.migrate();
    if (process.env.BENCH_LISTEN) store.onWork(() => undefined);
    console.log(`postgres: ${(await drive(store)).toFixed(0)} accepts/s at ${CONCURRENCY} in flight`);
    await store.close();
    await dropSchema(url, schema);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
