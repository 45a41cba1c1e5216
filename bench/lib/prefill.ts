import path from 'node:path';
import { loadConfig } from '../../src/config';
import { silentLogger } from '../../src/log';
import { createAccountRouter } from '../../src/channels/account-router';
import { formatProblem, loadRuleSet } from '../../src/rules';
import { SQLITE_FILE_NAME } from '../../src/store/open-store';
import { createSqliteStore } from '../../src/store/sqlite';
import { processEvents } from '../../src/webhook/process-events';
import type { SignedWebhook } from './line-webhooks';

/**
 * Queues the tag operations of `webhooks` in the SQLite file of `dataDir` the way the
 * webhook route does — the LINE endpoint's reader, the rules, `store.accept` (group
 * commits of concurrent accepts) — without HTTP, so a benchmark can start the service
 * on a queue that is already there. Returns how many operations were queued.
 */
export async function prefillSqlite(o: { dataDir: string; rulesDir: string; lineSecret: string; webhooks: Iterable<SignedWebhook> }): Promise<number> {
  const loaded = await loadRuleSet(o.rulesDir);
  if (!loaded.ruleSet) throw new Error(`benchmark rules are invalid: ${loaded.problems.map(formatProblem).join('; ')}`);
  const ruleSet = loaded.ruleSet;
  const log = silentLogger();
  const config = loadConfig({ LINE_CHANNEL_SECRET: o.lineSecret, DATA_DIR: o.dataDir, RULES_DIR: o.rulesDir });
  const line = config.endpoints.find((e) => e.definition.path === '/webhooks/line');
  if (!line) throw new Error('no /webhooks/line endpoint');
  const read = line.definition.dispatch.read;
  const accounts = createAccountRouter(config.endpoints, config.accounts);
  const store = createSqliteStore({ file: path.join(o.dataDir, SQLITE_FILE_NAME), log });
  await store.migrate();
  let queued = 0;
  try {
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
