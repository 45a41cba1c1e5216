import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { bearerToken } from './bearer-token';
import type { Metrics } from './metrics';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * GET /metrics. Its series name rules, channels and accounts, so with a token set
 * (METRICS_TOKEN) it answers only `Authorization: Bearer <token>` — what Prometheus
 * sends with `authorization: { credentials: … }`; everything after the scheme, as /admin reads
 * it, so a token with spaces works too — and 401 JSON otherwise. The
 * token is compared as SHA-256 digests with timingSafeEqual: equal lengths, and no
 * timing that tells how much of a guess was right. Without a token it stays open.
 */
export function metricsRoute(metrics: Metrics, token: string | undefined): RequestHandler {
  const expected = token === undefined ? undefined : sha256(token);
  return async (req, res) => {
    if (expected) {
      const sent = bearerToken(req.get('authorization'));
      if (!sent || !timingSafeEqual(sha256(sent), expected)) {
        res
          .status(401)
          .set('www-authenticate', 'Bearer realm="metrics"')
          .json({ error: sent ? 'wrong metrics token' : '/metrics needs Authorization: Bearer <METRICS_TOKEN>' });
        return;
      }
    }
    res.set('content-type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  };
}
