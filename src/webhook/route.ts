import { randomUUID } from 'node:crypto';
import express, { type Request, type Response, type NextFunction, type RequestHandler } from 'express';
import type { ConfiguredEndpoint } from '../config';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import { webhookReader, type ReceivedWebhook } from '../platforms/dispatch';
import { describeOperation } from '../providers/describe-operation';
import { notSet } from '../platforms/endpoints';
import { WebhookBodyError } from '../platforms/errors';
import type { RuleSet } from '../rules';
import { StoreUnavailableError, type ForwardRequest, type Store } from '../store/store';
import { processEvents } from './process-events';

export interface WebhookRouteDeps {
  endpoint: ConfiguredEndpoint;
  store: Store;
  rules: () => RuleSet | undefined;
  log: Logger;
  metrics: Metrics;
  maxBodyBytes: number;
  storeText: boolean;
  now: () => number;
}

type Outcome = 'accepted' | 'unauthorized' | 'bad_request' | 'too_large' | 'unavailable' | 'error';

/**
 * POST on a webhook endpoint: secret configured (503) → size (413) → signature over
 * the raw bytes (401) → shape (400) → platform modules → rules → one store
 * transaction → 200. The 200 is sent only once the operations and forwards are
 * durably stored.
 */
export function webhookRoute(d: WebhookRouteDeps): RequestHandler[] {
  const { endpoint, metrics } = d;
  const { channel, signature: scheme } = endpoint.definition;
  const read = webhookReader(endpoint.definition.dispatch);
  // The metric label keeps its name; its values are the endpoints' channel ids.
  const reply = (res: Response, status: number, outcome: Outcome, body: object, started: number) => {
    metrics.webhooks.inc({ platform: channel, outcome });
    metrics.webhookDuration.observe({ platform: channel }, (d.now() - started) / 1000);
    res.status(status).json(body);
  };

  const requireSecret: RequestHandler = (req, res, next) => {
    res.locals.started = d.now();
    if (!endpoint.secret) {
      reply(res, 503, 'unavailable', { error: `${notSet(endpoint.definition.secret)}: this endpoint is disabled` }, res.locals.started as number);
      return;
    }
    next();
  };

  const rawBody = express.raw({ type: () => true, limit: d.maxBodyBytes });

  const bodyErrors = (err: unknown, _req: Request, res: Response, next: NextFunction) => {
    const e = err as { type?: string; status?: number };
    if (e?.type === 'entity.too.large' || e?.status === 413) {
      reply(res, 413, 'too_large', { error: `body is larger than MAX_BODY_BYTES (${d.maxBodyBytes} bytes)` }, res.locals.started as number);
      return;
    }
    if (e?.status !== undefined && e.status >= 400 && e.status < 500) {
      reply(res, 400, 'bad_request', { error: `could not read the body: ${(err as Error).message}` }, res.locals.started as number);
      return;
    }
    next(err);
  };

  const handle: RequestHandler = async (req, res) => {
    const started = res.locals.started as number;
    const requestId = req.get('x-request-id') ?? randomUUID();
    const log = d.log.child({ requestId, channel });
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const signature = req.get(scheme.header);
    const secret = endpoint.secret as string;
    if (!scheme.verify(raw, signature, secret)) {
      log.warn('webhook rejected: signature missing or wrong', { bytes: raw.length, hasSignature: signature !== undefined });
      reply(res, 401, 'unauthorized', { error: signature === undefined ? `missing ${scheme.header} header` : `${scheme.header} does not match the body` }, started);
      return;
    }
    let parsed: ReceivedWebhook;
    try {
      parsed = read(raw, channel);
    } catch (err) {
      if (err instanceof WebhookBodyError) {
        // The detail may quote part of the body (JSON.parse errors do): debug level only.
        log.warn('webhook rejected: not a webhook body', { bytes: raw.length });
        log.debug('webhook rejected: detail', { detail: err.message });
        reply(res, 400, 'bad_request', { error: err.message }, started);
        return;
      }
      throw err;
    }
    if (parsed.unknownObject !== undefined) {
      log.info('webhook of an object no platform here reads: forwarded, nothing else', { object: parsed.unknownObject.slice(0, 64) });
    }
    for (const u of parsed.unusableUsers) log.warn('event kept without a user: its user id cannot be used', { eventId: u.eventId.slice(0, 200), problem: u.problem });
    const ruleSet = d.rules();
    if (!ruleSet) {
      reply(res, 503, 'unavailable', { error: 'no valid rule set is loaded' }, started);
      return;
    }
    const processed = processEvents(ruleSet, parsed.events, log);
    const forwards: ForwardRequest[] = [];
    if (endpoint.forwardUrls.length > 0) {
      const headers: Record<string, string> = { [scheme.header]: signature as string };
      const contentType = req.get('content-type');
      if (contentType) headers['content-type'] = contentType;
      for (const destination of endpoint.forwardUrls) forwards.push({ destination, orderingKey: parsed.orderingKey, body: raw, headers });
    }
    try {
      const result = await d.store.accept({ now: started, events: processed.accepted, forwards, storeText: d.storeText });
      for (const e of parsed.events) metrics.webhookEvents.inc({ platform: e.platform, kind: e.kind });
      for (const id of processed.matched) metrics.ruleMatches.inc({ rule: id });
      reply(res, 200, 'accepted', {}, started);
      log.info('webhook accepted', {
        events: parsed.events.length,
        duplicates: result.duplicates,
        matched: processed.matched,
        operations: processed.operations.map(describeOperation),
        queued: result.operationsQueued,
        forwards: result.forwardsQueued,
        ms: d.now() - started,
      });
      if (log.isDebugEnabled()) {
        log.debug('webhook events', { events: parsed.events.map((e) => ({ eventId: e.eventId, kind: e.kind, userId: e.userId, text: e.text })) });
      }
    } catch (err) {
      if (err instanceof StoreUnavailableError) {
        log.error('webhook not stored: the store is unavailable', { error: err.message });
        reply(res, 503, 'unavailable', { error: `the store is unavailable: ${err.message}` }, started);
        return;
      }
      log.error('webhook not stored', { error: err instanceof Error ? err.message : String(err) });
      reply(res, 500, 'error', { error: 'the webhook could not be stored; the platform will redeliver it' }, started);
    }
  };

  return [requireSecret, rawBody, bodyErrors as unknown as RequestHandler, handle];
}
