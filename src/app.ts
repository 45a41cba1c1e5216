import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import path from 'node:path';
import { createAccountRouter } from './channels/account-router';
import { channelsRoutedBy } from './channels/configured';
import type { Config, ConfiguredEndpoint } from './config';
import type { Logger } from './log';
import type { Metrics } from './metrics';
import { metricsRoute } from './metrics-route';
import type { RuleSet } from './rules';
import { refusedEditJson, type RuleRejection } from './rules/watch-rules';
import type { Store } from './store/store';
import { CHANNEL_KINDS } from './platforms/endpoints';
import { BODY_TIMEOUT_MS, UnverifiedBodies } from './webhook/read-body';
import { DRAINING_ERROR, serveWebhooksDirectly } from './request-listener';
import type { AckPressure } from './delivery/ack-pressure';
import type { OtherChannels } from './webhook/pick-channel';
import { webhookRoute, type WebhookHandler } from './webhook/route';
import { subscriptionCheckRoute } from './webhook/subscription-check';

export interface RulesState {
  /** The rule set in force, or undefined before a valid one was loaded. */
  current(): RuleSet | undefined;
  /** A rule edit on disk that was refused while the last good set stays in force. */
  refusedEdit?(): RuleRejection | undefined;
}

export interface AppDeps {
  config: Config;
  log: Logger;
  metrics: Metrics;
  store: Store;
  rules: RulesState;
  /** The /admin routes (only when ADMIN_TOKEN is set). */
  admin?: Router;
  now?: () => number;
  /** How long a webhook body may take to arrive (CONTRACT: 30 s; tests shorten it). */
  bodyTimeoutMs?: number;
  /** Told how long each webhook answer took: the tag worker grows only while they are quick. */
  ackPressure?: AckPressure;
}

export interface App extends express.Express {
  /** Set by the server during shutdown: webhooks then get 503 so the platform redelivers elsewhere/later. */
  locals: express.Express['locals'] & { draining?: boolean };
}

/** Builds the HTTP app. It does not listen: `server.ts` is the only file that does. */
export function createApp(deps: AppDeps): App {
  const { config, log, metrics, store } = deps;
  const now = deps.now ?? Date.now;
  const app = express() as App;
  app.disable('x-powered-by');
  // Paths are matched as written (CONTRACT: 404 for an id the channels file does not declare):
  // channel ids that differ only in case are different channels, so `/webhooks/meta/APP` is
  // never served as `app`, nor `/WEBHOOKS/LINE` as `/webhooks/line`. One trailing slash is still
  // accepted (express's non-strict matching, as the direct path in request-listener.ts leaves it
  // to express): `/webhooks/line/brand/` can only mean `brand`. Set before the first route,
  // when express builds its router.
  app.enable('case sensitive routing');
  app.disable('strict routing');
  // The client address (req.ip) is taken from X-Forwarded-For only through the proxies we have:
  // `true` would take its leftmost entry, which any client can write.
  app.set('trust proxy', config.trustProxyHops);

  app.use((req, res, next) => {
    const end = metrics.httpDuration.startTimer({ method: req.method });
    res.on('finish', () => end({ route: routeLabel(req), status: String(res.statusCode) }));
    next();
  });

  const refuseWhileDraining = (_req: Request, res: Response, next: NextFunction) => {
    if (app.locals.draining) {
      res.set('connection', 'close').status(503).json({ error: DRAINING_ERROR });
      return;
    }
    next();
  };

  const accounts = createAccountRouter(config.endpoints, config.accounts);
  // One budget for every webhook endpoint: the bytes of bodies whose signature is not checked yet.
  const unverified = new UnverifiedBodies(config.maxUnverifiedBytes, config.maxBodyBytes);
  metrics.unverifiedBodyBytes.source = () => unverified.held;
  const bodyTimeoutMs = deps.bodyTimeoutMs ?? BODY_TIMEOUT_MS;
  const common = { store, rules: () => deps.rules.current(), log, metrics, accounts, maxBodyBytes: config.maxBodyBytes, unverified, bodyTimeoutMs, storeText: config.history.storeText, now, trustProxyHops: config.trustProxyHops };
  // An environment endpoint whose bodies name their channel (`POST /webhooks/line`) also serves
  // the channels file's channels of its envelope: those that declare that name.
  const othersOf = (endpoint: ConfiguredEndpoint): { others?: OtherChannels } => {
    const routed = channelsRoutedBy(endpoint, config.endpoints);
    if (routed.length === 0) return {};
    return {
      others: {
        byRoutingKey: new Map<string, ConfiguredEndpoint>(routed.flatMap((e) => (e.routingKey !== undefined ? [[e.routingKey, e] as const] : []))),
        anySecret: routed.some((e) => e.secret !== undefined),
      },
    };
  };
  const webhooks = new Map<string, WebhookHandler>();
  for (const endpoint of config.endpoints) {
    if (endpoint.definition.verifyToken) app.get(endpoint.definition.path, subscriptionCheckRoute(endpoint));
    const handler = webhookRoute({ ...common, endpoint, ...othersOf(endpoint) });
    webhooks.set(endpoint.definition.path, handler);
    app.post(endpoint.definition.path, refuseWhileDraining, (req, res) => handler(req, res));
  }
  // The server hands these to their route without going through express (see request-listener.ts).
  serveWebhooksDirectly(app, webhooks, metrics, deps.ackPressure);
  // A channel id the channels file does not declare: 404 before anything else (CONTRACT check order).
  for (const kind of CHANNEL_KINDS) {
    const declared = config.endpoints.flatMap((e) => (e.definition.path.startsWith(`${kind.pathPrefix}/`) ? [e.definition.path.slice(kind.pathPrefix.length + 1)] : []));
    const undeclared = (req: Request, res: Response) => {
      // Answered before the body is read: the connection closes instead of draining an unread body.
      if (req.method === 'POST') res.set('connection', 'close');
      // The id as written in the path: ids are matched as written (%-escapes are not decoded), so
      // `%62rand-a` is no channel even when `brand-a` is one.
      const written = req.path.slice(kind.pathPrefix.length + 1).replace(/\/$/, '');
      // A URL registered in another case than the file's id (or %-escaped) is the likely mistake: name the id.
      const meant = declared.find((id) => id.toLowerCase() === safeDecode(written).toLowerCase());
      const hint = meant !== undefined ? `; did you mean ${JSON.stringify(meant)}? ids are matched as written, letter case included` : '';
      // The file by its name only: the answer goes to whoever asked, the folder is the log's.
      const file = config.channelsFile?.file;
      const error = `no ${kind.title} ${JSON.stringify(written)} is declared${file ? ` in ${path.basename(file)}` : ' (there is no channels file)'}${hint}`;
      log.warn('webhook for a channel id that is not declared: 404', { method: req.method, path: req.path, ...(file ? { channelsFile: file } : {}), ...(meant !== undefined ? { meant } : {}) });
      res.status(404).json({ error });
    };
    app.post(`${kind.pathPrefix}/:channel`, undeclared);
    if (kind.verifyTokenKey) app.get(`${kind.pathPrefix}/:channel`, undeclared);
  }
  // Another method on a webhook endpoint: 405, saying which it takes (GET is Meta's subscription check).
  for (const endpoint of config.endpoints) methodNotAllowed(app, endpoint.definition.path, endpoint.definition.verifyToken ? 'GET, HEAD, POST' : 'POST');

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    if (!deps.rules.current()) {
      res.status(503).json({ status: 'unavailable', reason: 'rules: no valid rule set is loaded' });
      return;
    }
    try {
      // A write, not a read: a full disk or a read-only database still answers reads.
      await store.canCommit();
    } catch (err) {
      res.status(503).json({ status: 'unavailable', reason: `store (${store.engine}): ${err instanceof Error ? err.message : String(err)}` });
      return;
    }
    if (app.locals.draining) {
      res.status(503).json({ status: 'unavailable', reason: 'shutting down' });
      return;
    }
    // Still ready with a refused edit (CONTRACT: the last valid set is in force), but it says so.
    const refused = deps.rules.refusedEdit?.();
    res.json({
      status: 'ready',
      store: store.engine,
      rules: deps.rules.current()?.rules.length ?? 0,
      ...(refused && { rulesRefused: refusedEditJson(refused) }),
    });
  });

  app.get('/metrics', metricsRoute(metrics, config.metricsToken));
  // Another method on them: 405 with `Allow`, as on the webhook endpoints (a 404 would say the path is wrong).
  for (const route of ['/healthz', '/readyz', '/metrics']) methodNotAllowed(app, route, 'GET, HEAD');

  if (config.adminToken && deps.admin) app.use('/admin', deps.admin);
  else app.all(/^\/admin(\/.*)?$/, (_req, res) => void res.status(404).json({ error: 'not found (set ADMIN_TOKEN to enable /admin)' }));

  app.use((req, res) => {
    res.status(404).json({ error: `no route for ${req.method} ${req.path}` });
  });

  // Anything unexpected: a JSON 500 (for a webhook the platform will redeliver), never a stack trace.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    log.error('request failed', { method: req.method, path: req.path, error: err instanceof Error ? err.message : String(err) });
    if (res.headersSent) return;
    const status = (err as { status?: number }).status;
    if (status !== undefined && status >= 400 && status < 500) res.status(status).json({ error: (err as Error).message });
    else res.status(500).json({ error: 'internal error' });
  });

  return app;
}

function routeLabel(req: Request): string {
  const r = req.route as { path?: unknown } | undefined;
  // A router's routes are named with the path it is mounted at (`/admin/login`, not `/login`).
  if (r && typeof r.path === 'string') return r.path === '/' && req.baseUrl !== '' ? req.baseUrl : `${req.baseUrl}${r.path}`;
  return req.baseUrl.startsWith('/admin') ? '/admin' : 'unmatched';
}

/** Any other method on `path`: 405 with `Allow` and a JSON error naming what it takes (HEAD goes without saying). */
function methodNotAllowed(app: App, route: string, allow: string): void {
  app.all(route, (req, res) => {
    res.set('allow', allow).status(405).json({ error: `${req.method} is not allowed on ${route}: it takes ${allow.replace(', HEAD', '')}` });
  });
}

/** `s` with its %-escapes decoded, or as it is when they are malformed. */
function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
