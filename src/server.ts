import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { createAdminRouter } from './admin';
import { answerClientError } from './client-error';
import { closeInStages } from './close-in-stages';
import { createApp } from './app';
import { continueListener, requestListener } from './request-listener';
import { ruleCatalogue } from './channels/catalogue';
import { channelsForRules } from './channels/for-rules';
import { ConfigError, loadConfig, secretsOf, type Config } from './config';
import { AckPressure } from './delivery/ack-pressure';
import { Delivery } from './delivery/worker';
import { createLogger, type Logger } from './log';
import { createMetrics } from './metrics';
import { createTaggers } from './providers/create-taggers';
import { formatProblem, loadRuleSet, type RuleProblem } from './rules';
import { reloadOutcome, RulesHolder, watchRules } from './rules/watch-rules';
import { logSetupStatus, setupStatus } from './setup-status';
import { openStore } from './store/open-store';
import { storeVariable } from './store/store-variable';
import { StoreUnavailableError, type Store } from './store/store';
import { BODY_TIMEOUT_MS, HEADERS_TIMEOUT_MS } from './webhook/read-body';
import { SHUTDOWN_HARD_EXIT_MS } from './shutdown-times';

/** Thrown when the service cannot start (invalid rules, unreachable store); the CLI prints it and exits 1. */
export class StartupError extends Error {
  constructor(message: string, readonly details: string[] = []) {
    super(message);
    this.name = 'StartupError';
  }
}

export interface RunningServer {
  port: number;
  config: Config;
  store: Store;
  log: Logger;
  /**
   * Stops taking webhooks, finishes or releases in-flight work, closes the store.
   * `signalledAt` (Date.now() of the signal that asked for it): the time limits count from
   * it, since a signal during start-up is acted on only once the start has finished.
   */
  stop(opts?: { signalledAt?: number }): Promise<void>;
}

const SHUTDOWN_GRACE_MS = 5000;
/**
 * A token refresh under way is waited for until this long after the signal — at most
 * REFRESH_SHUTDOWN_WAIT_MS after delivery stopped, less when stopping took longer than its
 * grace (calls that could not be cut off get a second more) or the signal came during start-up —
 * so that the store is closed and the operator warned before the hard exit.
 */
const REFRESHES_END_BY_MS = SHUTDOWN_HARD_EXIT_MS - 1000;
const PRUNE_EVERY_MS = 3600_000;
const SEEN_EVENT_DAYS = 8; // CONTRACT: event ids are remembered for at least 7 days

/** The only place that listens. Everything else is built by `createApp` and friends. */
export async function startServer(env: NodeJS.ProcessEnv = process.env): Promise<RunningServer> {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (err) {
    // Every problem at once: the rules' own problems too, not only at the next start.
    const ruleProblems = err instanceof ConfigError ? await ruleProblemsBeside(env) : [];
    if (ruleProblems.length) throw new StartupError(err instanceof Error ? err.message : String(err), ruleProblems.map(formatProblem));
    throw err;
  }
  const log = createLogger({ level: config.logLevel, secrets: secretsOf(config) });

  const catalogue = ruleCatalogue(config.channelsFile);
  const loaded = await loadRuleSet(config.rulesDir, { catalogue });
  if (!loaded.ruleSet) {
    throw new StartupError(`refusing to start: the rules in ${config.rulesDir} are not valid`, loaded.problems.map(formatProblem));
  }
  for (const f of loaded.exampleFailures) log.warn('rule example does not hold', { problem: formatProblem(f) });
  for (const w of loaded.warnings) log.warn('rule warning', { problem: formatProblem(w) });
  const rules = new RulesHolder(loaded.ruleSet);

  let store: Store;
  try {
    store = await openStore(config, log);
  } catch (err) {
    // Said as for a bad variable: which one points at the store that cannot be opened.
    if (err instanceof StoreUnavailableError) throw new StartupError(`cannot open the store (${storeVariable(config)}): ${err.message}`);
    throw err;
  }
  // What is set up, one line each (endpoints, accounts, store, rules) and what deserves a warning.
  logSetupStatus(log, setupStatus(config, { rules: loaded.ruleSet }));
  const metrics = createMetrics({ status: () => store.status(Date.now()) });
  const { taggers, close: closeTaggers } = await createTaggers(config, store, log);
  if (config.channelsFile) {
    log.info('channels file in force', {
      file: config.channelsFile.file,
      channels: config.endpoints.filter((e) => e.source === 'file').map((e) => `${e.definition.path} (${[...e.accounts.values()].join(', ') || 'no accounts of its own'})`),
      accounts: config.accounts.filter((a) => a.source === 'file').map((a) => `${a.name} (${a.provider.name})`),
    });
  }

  const owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  // Answers come first: the tag worker grows past its starting concurrency only while they are quick.
  const ackPressure = new AckPressure();
  const delivery = new Delivery({ store, config, log, metrics, taggers, owner, ackPressure });
  metrics.callerRoles.source = () => delivery.callerRoles();
  await delivery.start();

  const admin = config.adminToken ? createAdminRouter({ config, store, rules: () => rules.current(), refusedEdit: () => rules.refusedEdit(), log }) : undefined;
  const app = createApp({ config, log, metrics, store, rules, admin, ackPressure });
  // Slow clients: Node closes a socket whose headers take over 10 s (checked every second, not
  // every 30 s); the webhook route cuts a body at 30 s, and every other request is cut once
  // headers and body together took 40 s (Node's own default waits 300 s).
  const server: Server = createServer(
    { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: HEADERS_TIMEOUT_MS + BODY_TIMEOUT_MS, connectionsCheckingInterval: 1000 },
    requestListener(app),
  );
  // `Expect: 100-continue`: a webhook that will be refused is answered instead of invited to send its body.
  server.on('checkContinue', continueListener(app));
  // A request Node cannot parse, or whose headers are too slow: its status with a JSON error, as every refusal.
  server.on('clientError', answerClientError);
  // An answer sent before the body was read reaches a client still sending that body.
  closeInStages(server);
  await new Promise<void>((resolve, reject) => {
    // A port that cannot be listened on stops the start naming PORT.
    const fail = (err: NodeJS.ErrnoException) => reject(listenError(err, config.port));
    server.once('error', fail);
    server.listen(config.port, () => {
      server.off('error', fail);
      resolve();
    });
  });
  // LINE and Meta keep connections alive; idle sockets must not hold up shutdown.
  server.keepAliveTimeout = 5000;
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  // PROVIDER_CALLERS matters only where instances share a store.
  const callers = store.engine === 'postgres' ? { providerCallers: config.providerCallers } : {};
  log.info('chat-autotag listening', { port, store: store.engine, rules: rules.current().rules.length, owner, ...callers });
  const watcher = watchRules({
    dir: config.rulesDir,
    catalogue,
    loggedExampleFailures: loaded.exampleFailures,
    loggedWarnings: loaded.warnings,
    holder: rules,
    log,
    onReload: (r) => {
      const outcome = reloadOutcome(r);
      if (outcome) metrics.ruleReloads.inc({ outcome });
    },
  });

  const prune = async () => {
    const now = Date.now();
    try {
      const removed = await store.prune({
        historyBefore: now - config.history.retentionDays * 86_400_000,
        seenBefore: now - SEEN_EVENT_DAYS * 86_400_000,
      });
      if (removed.history + removed.seen > 0) log.info('pruned old history and event ids', removed);
    } catch (err) {
      log.warn('prune failed', { error: err instanceof Error ? err.message : String(err) });
    }
  };
  void prune();
  const pruneTimer = setInterval(() => void prune(), PRUNE_EVERY_MS);
  pruneTimer.unref();

  let stopping: Promise<void> | undefined;
  const stop = (opts: { signalledAt?: number } = {}) => {
    stopping ??= (async () => {
      const since = opts.signalledAt ?? Date.now();
      log.info('shutting down');
      app.locals.draining = true;
      clearInterval(pruneTimer);
      watcher.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Webhooks already being read or stored get their answer (a 200 the platform need not
      // redeliver, or a 503 it will) within the same grace as the calls in flight; only then is
      // what is left cut off. A keep-alive connection that answered meanwhile stays open idle,
      // so idle ones are closed as they appear.
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      let graceTimer: NodeJS.Timeout | undefined;
      const answered = Promise.race([closed, new Promise<void>((resolve) => (graceTimer = setTimeout(resolve, SHUTDOWN_GRACE_MS)))]);
      await Promise.all([delivery.stop(SHUTDOWN_GRACE_MS), answered]);
      clearInterval(sweep);
      clearTimeout(graceTimer);
      server.closeAllConnections();
      await closed;
      await closeTaggers({ refreshWaitMs: Math.max(0, REFRESHES_END_BY_MS - (Date.now() - since)) });
      await store.close();
      log.info('stopped');
    })();
    return stopping;
  };

  return {
    port,
    config,
    store,
    log,
    stop,
  };
}

/** A port that cannot be listened on names PORT; other errors are thrown as they are. */
function listenError(err: NodeJS.ErrnoException, port: number): Error {
  const why = err.code === 'EADDRINUSE' ? 'another process is using it' : err.code === 'EACCES' ? 'not allowed for this user' : undefined;
  return why ? new StartupError(`PORT: cannot listen on port ${port} (${why}); set PORT to a free port`) : err;
}

/**
 * The problems of the rule files, for a start that the configuration already refused (a
 * channels file with a problem, say): their names checked against what the channels file
 * declares, as `autotag validate` checks them. None when RULES_DIR is not a folder (that is
 * a configuration problem of its own).
 */
async function ruleProblemsBeside(env: NodeJS.ProcessEnv): Promise<RuleProblem[]> {
  const dir = path.resolve(env.RULES_DIR?.trim() || './rules');
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) return [];
  try {
    return (await loadRuleSet(dir, { catalogue: channelsForRules(env, process.cwd()).catalogue })).problems;
  } catch {
    return [];
  }
}
