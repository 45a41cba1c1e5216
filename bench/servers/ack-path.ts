/**
 * The ack path alone: the service's HTTP app (`createApp`) over the store the
 * configuration asks for, wired as `startServer` wires it — same logger, metrics,
 * rules and store, the same request listener — but without the delivery worker, so a benchmark measures what
 * a webhook costs up to its 200 and nothing that happens after it.
 *
 * BENCH_ACK_STORE=none (a diagnostic, never the service): the store's `accept` answers at once
 * without writing anything, so a webhook costs everything of the ack path but its durable
 * commit. Its throughput bounds what taking the store off the event loop could give.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/app';
import { loadConfig, secretsOf } from '../../src/config';
import { createLogger } from '../../src/log';
import { createMetrics } from '../../src/metrics';
import { formatProblem, loadRuleSet } from '../../src/rules';
import { requestListener } from '../../src/request-listener';
import { openStore } from '../../src/store/open-store';
import { freePort } from '../../test/helpers/free-port';
import { runChild } from '../lib/run-child';

runChild(async () => {
  // PORT must be 1–65535: a free one, picked here, when the benchmark leaves it unset.
  const config = loadConfig({ ...process.env, PORT: process.env.PORT ?? String(await freePort()) });
  const log = createLogger({ level: config.logLevel, secrets: secretsOf(config) });
  const loaded = await loadRuleSet(config.rulesDir);
  const ruleSet = loaded.ruleSet;
  if (!ruleSet) throw new Error(`ack-path server: invalid rules: ${loaded.problems.map(formatProblem).join('; ')}`);
  const store = await openStore(config, log);
  if (process.env.BENCH_ACK_STORE === 'none') {
    // Counts as the store would for fresh events (bench/ack's load: every event new).
    store.accept = async (batch) => ({
      accepted: batch.events.length,
      newEvents: batch.events.map((_, i) => i),
      duplicates: 0,
      operationsQueued: batch.events.reduce((n, e) => n + e.operations.length, 0),
      forwardsQueued: batch.forwards.length,
    });
  } else if (process.env.BENCH_ACK_STORE !== undefined) {
    throw new Error(`ack-path server: BENCH_ACK_STORE must be unset or "none", not ${JSON.stringify(process.env.BENCH_ACK_STORE)}`);
  }
  const metrics = createMetrics({ status: () => store.status(Date.now()) });
  const app = createApp({ config, log, metrics, store, rules: { current: () => ruleSet } });
  const server: Server = createServer(requestListener(app));
  await new Promise<void>((resolve) => server.listen(config.port, resolve));
  server.keepAliveTimeout = 5000;
  return {
    port: (server.address() as AddressInfo).port,
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await store.close();
    },
  };
});
