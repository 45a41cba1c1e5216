import path from 'node:path';
import { loadConfig } from '../../src/config';
import { silentLogger } from '../../src/log';
import { createAccountRouter } from '../../src/channels/account-router';
import { formatProblem, loadRuleSet } from '../../src/rules';
import { SQLITE_FILE_NAME } from '../../src/store/open-store';
import { createPostgresStore } from '../../src/store/postgres';
import { createSqliteStore } from '../../src/store/sqlite';
import type { Store } from '../../src/store/store';
import { processEvents } from '../../src/webhook/process-events';
import type { SignedWebhook } from './line-webhooks';

interface PrefillOptions {
  rulesDir: string;
  lineSecret: string;
  webhooks: Iterable<SignedWebhook>;
}

/**
 * Queues the tag operations of `webhooks` in the SQLite file of `dataDir` the way the
 * webhook route does — the LINE endpoint's reader, the rules, `store.accept` (group
 * commits of concurrent accepts) — without HTTP, so a benchmark can start the service
 * on a queue that is already there. Returns how many operations were queued.
 */
export async function prefillSqlite(o: PrefillOptions & { dataDir: string }): Promise<number> {
  const log = silentLogger();
  return prefill(createSqliteStore({ file: path.join(o.dataDir, SQLITE_FILE_NAME), log }), o, { DATA_DIR: o.dataDir });
}

/**
 * The same in a PostgreSQL store: `schema` of `url`, created and migrated here (the service
 * started on it with DATABASE_SCHEMA finds it up to date). Several instances can then share it.
 */
export async function prefillPostgres(o: PrefillOptions & { url: string; schema: string }): Promise<number> {
  const log = silentLogger();
  const store = createPostgresStore({ url: o.url, schema: o.schema, log, poolSize: 4, connectTimeoutMs: 5000, statementTimeoutMs: 60_000 });
  return prefill(store, o, {});
}

async function prefill(store: Store, o: PrefillOptions, env: Record<string, string>): Promise<number> {
  const loaded = await loadRuleSet(o.rulesDir);
  if (!loaded.ruleSet) throw new Error(`benchmark rules are invalid: ${loaded.problems.map(formatProblem).join('; ')}`);
  const ruleSet = loaded.ruleSet;
  const log = silentLogger();
  const config = loadConfig({ ...env, LINE_CHANNEL_SECRET: o.lineSecret, RULES_DIR: o.rulesDir });
  const line = config.endpoints.find((e) => e.definition.path === '/webhooks/line');
  if (!line) throw new Error('no /webhooks/line endpoint');
  const read = line.definition.dispatch.read;
  const accounts = createAccountRouter(config.endpoints, config.accounts);
  let queued = 0;
  try {
    await store.migrate();
    let pending: Promise<void>[] = [];
    for (const w of o.webhooks) {
      const parsed = read(w.body, line.definition.channel);
      const now = Date.now();
      const processed = processEvents(ruleSet, parsed.events, accounts, log, now);
      pending.push(
        store.accept({ now, events: processed.accepted, forwards: [], storeText: false }).then((r) => {
          queued += r.operationsQueued;
        }),
      );
      // As many at once as a busy endpoint would have in flight; they share commits.
      if (pending.length >= 200) {
        await Promise.all(pending);
        pending = [];
      }
    }
    await Promise.all(pending);
  } finally {
    await store.close();
  }
  return queued;
}

/** `count` webhooks from a generator. */
export function* take<T>(count: number, next: () => T): Generator<T> {
  for (let i = 0; i < count; i++) yield next();
}
