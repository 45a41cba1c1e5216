import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccountRouter } from '../channels/account-router';
import type { ConfiguredEndpoint } from '../config';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import { MAX_EVENT_AGE_MS, splitByAge } from '../platforms/event-age';
import { describeOperation } from '../providers/describe-operation';
import { notSet } from '../platforms/endpoints';
import { WebhookBodyError } from '../platforms/errors';
import type { ReceivedWebhook } from '../platforms/platform';
import type { RuleSet } from '../rules';
import { StoreUnavailableError, type ForwardRequest, type Store } from '../store/store';
import { newEventsOf } from '../store/shared/activity-counts';
import { closeAtOnce } from '../close-in-stages';
import { acceptWebhook } from './accept-webhook';
import { sendContinue } from './expect-continue';
import { channelPicker, type OtherChannels } from './pick-channel';
import { processEvents } from './process-events';
import { BodyReadError, readBody, type HeldBody, type UnverifiedBodies } from './read-body';

export interface WebhookRouteDeps {
  endpoint: ConfiguredEndpoint;
  /** An environment endpoint whose bodies name their channel: the channels file's channels it serves too (see pick-channel.ts). */
  others?: OtherChannels;
  accounts: AccountRouter;
  store: Store;
  rules: () => RuleSet | undefined;
  log: Logger;
  metrics: Metrics;
  maxBodyBytes: number;
  /** Shared by every webhook endpoint of the app: bytes of bodies not verified yet. */
  unverified: UnverifiedBodies;
  bodyTimeoutMs: number;
  storeText: boolean;
  now: () => number;
  /** TRUST_PROXY_HOPS: where the client address is read from X-Forwarded-For (in rejection logs). */
  trustProxyHops?: number;
}

type Outcome = 'accepted' | 'unauthorized' | 'bad_request' | 'too_large' | 'timeout' | 'unavailable' | 'error';

/**
 * POST on a webhook endpoint, in the contract's order: secret configured (503) →
 * declared size (413) → signature header present and well formed (401), all before
 * the body is read → room in the unverified-bytes budget (503), also before reading → body
 * size (413), budget (503) and time (408) while it is read → the channel whose secret checks it → signature
 * over the raw bytes (401) → shape (400) → platform modules → rules → one store
 * transaction → 200. The 200 is sent only once the operations and forwards are
 * durably stored.
 */
export type WebhookHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The client's address as TRUST_PROXY_HOPS says (as express's `trust proxy` reads it): the
 * address that many hops from the right of X-Forwarded-For and the socket's own address.
 */
export function clientAddress(req: IncomingMessage, hops: number): string | undefined {
  const socket = req.socket.remoteAddress;
  if (hops <= 0) return socket;
  const forwarded = header(req, 'x-forwarded-for');
  const chain = [...(forwarded ? forwarded.split(',').map((a) => a.trim()).filter((a) => a !== '') : []), ...(socket ? [socket] : [])];
  return chain[Math.max(0, chain.length - 1 - hops)];
}

/** A request header as one string (Node joins repeated ones), or undefined. */
function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

export function webhookRoute(d: WebhookRouteDeps): WebhookHandler {
  /** Who sent a rejected request (rejections only: an accepted one came from the platform). */
  const ip = (req: IncomingMessage) => clientAddress(req, d.trustProxyHops ?? 0);
  const { endpoint, metrics } = d;
  const { signature: scheme } = endpoint.definition;
  const picker = channelPicker(endpoint, d.others);
  // `platform` is the kind of endpoint: the environment's are named after their platform
  // (line, facebook, whatsapp), the channels file's after their envelope (line, meta); `channel` says which.
  const platformOf = (channel: ConfiguredEndpoint) => (channel.source === 'environment' ? channel.definition.channel : channel.definition.dispatch.envelope.name);
  // Metric series resolved once per channel and outcome: prom-client hashes a label object on every call otherwise.
  const series = new Map<string, { count: { inc(): void }; duration: { observe(seconds: number): void } }>();
  const seriesOf = (channel: ConfiguredEndpoint, outcome: Outcome) => {
    const key = `${channel.definition.channel}\n${outcome}`;
    let s = series.get(key);
    if (!s) {
      const labels = { platform: platformOf(channel), channel: channel.definition.channel };
      series.set(key, (s = { count: metrics.webhooks.labels({ ...labels, outcome }), duration: metrics.webhookDuration.labels(labels) }));
    }
    return s;
  };
  const reply = (res: ServerResponse, status: number, outcome: Outcome, body: object, started: number, channel: ConfiguredEndpoint = endpoint) => {
    const s = seriesOf(channel, outcome);
    s.count.inc();
    s.duration.observe((d.now() - started) / 1000);
    // Written directly rather than with res.json: no ETag (a hash of the body) or freshness check per webhook.
    const payload = JSON.stringify(body);
    res.statusCode = status;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.setHeader('content-length', Buffer.byteLength(payload));
    res.end(payload);
  };
  /** An answer before the body is read whole: the connection is closed rather than left to drain an unread body. */
  const early = (res: ServerResponse, started: number, status: number, outcome: Outcome, body: object) => {
    res.setHeader('connection', 'close');
    reply(res, status, outcome, body, started);
  };
  const busy = (res: ServerResponse, started: number, message: string) => {
    // By then every body held now has been verified, rejected or cut off.
    res.setHeader('retry-after', String(Math.ceil(d.bodyTimeoutMs / 1000)));
    // Overloaded by unverified bodies: the rest of this one is not taken in too (close-in-stages.ts).
    closeAtOnce(res);
    early(res, started, 503, 'unavailable', { error: message });
  };

  /** The checks made before the body is read; false when one of them answered. */
  const checkBeforeReading = (req: IncomingMessage, res: ServerResponse, started: number): boolean => {
    if (!picker.hasSecret) {
      early(res, started, 503, 'unavailable', { error: `${notSet(endpoint.definition.secret)}: this endpoint is disabled` });
      return false;
    }
    const declared = Number(header(req, 'content-length'));
    if (Number.isFinite(declared) && declared > d.maxBodyBytes) {
      early(res, started, 413, 'too_large', { error: `body is larger than MAX_BODY_BYTES (${d.maxBodyBytes} bytes)` });
      return false;
    }
    const signature = header(req, scheme.header);
    if (signature === undefined || !scheme.wellFormed(signature)) {
      d.log.warn('webhook rejected: signature missing or malformed', { channel: endpoint.definition.channel, hasSignature: signature !== undefined, ip: ip(req) });
      early(res, started, 401, 'unauthorized', { error: signature === undefined ? `missing ${scheme.header} header` : `${scheme.header} is malformed` });
      return false;
    }
    return true;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, started: number): Promise<void> => {
    let held: HeldBody;
    try {
      // A client that waits for `100 Continue` (Expect: 100-continue) is told to send the body only now.
      held = await readBody(req, d.unverified, d.maxBodyBytes, d.bodyTimeoutMs, () => sendContinue(res));
    } catch (err) {
      if (!(err instanceof BodyReadError)) throw err;
      if (err.status !== 0) d.log.warn('webhook body not read', { channel: endpoint.definition.channel, status: err.status, error: err.message, unverifiedBytes: d.unverified.held, ip: ip(req) });
      if (err.status === 503) busy(res, started, err.message);
      else if (err.status !== 0) early(res, started, err.status, err.status === 413 ? 'too_large' : err.status === 408 ? 'timeout' : 'bad_request', { error: err.message });
      return;
    }
    const raw = held.bytes;
    const requestId = header(req, 'x-request-id') ?? randomUUID();
    const signature = header(req, scheme.header) as string;
    let chosen: ConfiguredEndpoint | undefined;
    let verified = false;
    try {
      chosen = picker.pick(raw);
      verified = chosen !== undefined && scheme.verify(raw, signature, chosen.secret as string);
    } finally {
      held.release(); // verified or rejected: no longer counted
    }
    if (chosen === undefined) {
      const why = picker.uncovered(raw);
      d.log.child({ requestId, channel: endpoint.definition.channel }).warn('webhook rejected: no channel covers it', { bytes: raw.length, why, ip: ip(req) });
      reply(res, 401, 'unauthorized', { error: why }, started);
      return;
    }
    const channel = chosen.definition.channel;
    const log = d.log.child({ requestId, channel });
    if (!verified) {
      // Names the variable holding the secret it was checked with (never the secret): the usual cause is the wrong value in it.
      const checkedWith = chosen.secretVariable ?? chosen.definition.secret[0];
      log.warn(`webhook rejected: signature wrong for the secret in ${checkedWith}`, { bytes: raw.length, checkedWith, ip: ip(req) });
      reply(res, 401, 'unauthorized', { error: `${scheme.header} does not match the body` }, started, chosen);
      return;
    }
    const answer = (status: number, outcome: Outcome, body: object) => reply(res, status, outcome, body, started, chosen);
    let parsed: ReceivedWebhook;
    try {
      parsed = chosen.definition.dispatch.read(raw, channel);
    } catch (err) {
      if (err instanceof WebhookBodyError) {
        // The detail may quote part of the body (JSON.parse errors do): debug level only.
        log.warn('webhook rejected: not a webhook body', { bytes: raw.length, ip: ip(req) });
        log.debug('webhook rejected: detail', { detail: err.message });
        answer(400, 'bad_request', { error: err.message });
        return;
      }
      throw err;
    }
    if (parsed.unknownObject !== undefined) {
      log.info('webhook of an object no platform here reads: forwarded, nothing else', { object: parsed.unknownObject.slice(0, 64) });
    }
    for (const u of parsed.unusableUsers) log.warn('event kept without a user: its user id cannot be used', { eventId: u.eventId.slice(0, 200), problem: u.problem });
    if (parsed.ignored > 0) {
      // Answered 200 with the rest (the platform would only send the same again): said here, not lost silently.
      log.warn('events ignored: their shape cannot be read (an entry, item or message without a field the platform always sends — id, timestamp, recipient)', { ignored: parsed.ignored, bytes: raw.length });
    }
    const ruleSet = d.rules();
    if (!ruleSet) {
      answer(503, 'unavailable', { error: 'no valid rule set is loaded' });
      return;
    }
    // A replay of a captured webhook: its old events are acknowledged and produce nothing (not even history).
    const { fresh, stale } = splitByAge(parsed.events, started);
    for (const e of stale) {
      metrics.staleEvents.inc({ platform: e.platform, channel });
      log.warn('event ignored: older than the longest platform retry', { eventId: e.eventId.slice(0, 200), platform: e.platform, ageMs: started - e.timestamp, maxAgeMs: MAX_EVENT_AGE_MS });
    }
    const processed = processEvents(ruleSet, fresh, d.accounts, log, started);
    const forwards: ForwardRequest[] = [];
    // The channel's own forward URLs (CONTRACT: an event's channel is the channel whose secret verified it).
    if (chosen.forwardUrls.length > 0) {
      const headers: Record<string, string> = { [scheme.header]: signature };
      const contentType = header(req, 'content-type');
      if (contentType) headers['content-type'] = contentType;
      for (const destination of chosen.forwardUrls) forwards.push({ destination, orderingKey: parsed.orderingKey, body: raw, headers });
    }
    try {
      const result = await acceptWebhook(d.store, { now: started, events: processed.accepted, forwards, storeText: d.storeText }, log);
      for (const e of parsed.events) metrics.webhookEvents.inc({ platform: e.platform, channel, kind: e.kind });
      // Matches of new events only: a redelivered event is stored once, and counted once (as on /admin).
      for (const e of newEventsOf(processed.accepted, result)) for (const id of e.matched) metrics.ruleMatches.inc({ rule: id });
      answer(200, 'accepted', {});
      log.info('webhook accepted', {
        events: parsed.events.length,
        ...(parsed.ignored > 0 ? { ignored: parsed.ignored } : {}),
        duplicates: result.duplicates,
        ...(result.refused > 0 ? { refused: result.refused } : {}),
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
        answer(503, 'unavailable', { error: `the store is unavailable: ${err.message}` });
        return;
      }
      log.error('webhook not stored', { error: err instanceof Error ? err.message : String(err) });
      answer(500, 'error', { error: 'the webhook could not be stored; the platform will redeliver it' });
    }
  };

  return (req, res) => {
    const started = d.now();
    if (!checkBeforeReading(req, res, started)) return;
    handle(req, res, started).catch((err: unknown) => {
      // A bug, not a webhook problem: a JSON 500 (the platform redelivers), never a stack trace.
      d.log.error('request failed', { method: req.method, path: endpoint.definition.path, error: err instanceof Error ? err.message : String(err) });
      if (!res.headersSent) reply(res, 500, 'error', { error: 'internal error' }, started);
    });
  };
}
