import type { RequestListener, ServerResponse } from 'node:http';
import type { App } from './app';
import type { AckPressure } from './delivery/ack-pressure';
import type { Metrics } from './metrics';
import { awaitContinue, sendContinue } from './webhook/expect-continue';
import type { WebhookHandler } from './webhook/route';

const listeners = new WeakMap<App, RequestListener>();

/** Every webhook endpoint's path starts so (`/webhooks/line`, `/webhooks/meta/{id}`, …); no other route does. */
const WEBHOOKS_PREFIX = '/webhooks/';

/** The error of a webhook refused during shutdown, on this path and in the express app alike. */
export const DRAINING_ERROR = 'shutting down; try again';

/**
 * What the node:http server runs (DESIGN: the request path). A webhook POST — its path
 * exactly as an endpoint declares it, any query string aside — goes straight to its
 * route, ahead of the express app: no router, no middleware chain, no request and
 * response prototypes swapped in, nothing per request that the webhook does not need;
 * at thousands of webhooks a second express's share of the work was as large as the
 * durable commit's. The route answers with its own JSON and counts its own metrics;
 * here only what the express app does for every request is done for it too: the
 * `http_request_duration_seconds` series, and 503 while the service shuts down.
 * Everything else (other paths, other methods, spellings of a webhook path that only
 * express's matching accepts) goes to the express app, which mounts the same routes.
 */
export function serveWebhooksDirectly(app: App, routes: ReadonlyMap<string, WebhookHandler>, metrics: Metrics, pressure?: AckPressure): void {
  const series = new Map<string, { observe(seconds: number): void }>();
  const timed = (res: ServerResponse, route: string, startedAt: number) => {
    res.once('finish', () => {
      const key = `${route} ${res.statusCode}`;
      let s = series.get(key);
      if (!s) series.set(key, (s = metrics.httpDuration.labels({ method: 'POST', route, status: String(res.statusCode) })));
      const ms = performance.now() - startedAt;
      s.observe(ms / 1000);
      // The tag worker grows only while answers are quick (delivery/ack-pressure.ts).
      pressure?.record(ms);
    });
  };
  listeners.set(app, (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const handler = req.method === 'POST' ? routes.get(path) : undefined;
    if (!handler) {
      // A webhook POST express serves (a path with its trailing slash, an undeclared channel id:
      // 404) is invited by its route once its checks pass, or never; anything else at once.
      if (!(req.method === 'POST' && path.startsWith(WEBHOOKS_PREFIX))) sendContinue(res);
      app(req, res);
      return;
    }
    timed(res, path, performance.now());
    if (app.locals.draining) {
      const body = JSON.stringify({ error: DRAINING_ERROR });
      res.writeHead(503, { connection: 'close', 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    handler(req, res);
  });
}

/** The server's request listener for `app`: webhooks directly (see above) when the app was built so, else the express app. */
export function requestListener(app: App): RequestListener {
  return listeners.get(app) ?? app;
}

/**
 * The server's 'checkContinue' listener for `app` (a request with `Expect: 100-continue`):
 * a webhook POST on its direct path gets `100 Continue` from its route once the checks
 * made before reading the body have passed, so an upload it refuses is never invited
 * (webhook/expect-continue.ts); everything else gets it at once, as Node would send it.
 */
export function continueListener(app: App): RequestListener {
  const listener = listeners.get(app);
  if (!listener) {
    return (req, res) => {
      res.writeContinue();
      app(req, res);
    };
  }
  return (req, res) => {
    awaitContinue(res);
    listener(req, res);
  };
}
