import client from 'prom-client';
import type { StoreStatus } from './store/store';

/**
 * Prometheus series. Each app gets its own registry (tests build many apps in one process).
 * Labels never carry secrets: forward destinations are reduced to origin + path.
 */
export interface Metrics {
  readonly registry: client.Registry;
  webhooks: client.Counter<'platform' | 'channel' | 'outcome'>;
  webhookEvents: client.Counter<'platform' | 'channel' | 'kind'>;
  staleEvents: client.Counter<'platform' | 'channel'>;
  httpDuration: client.Histogram<'method' | 'route' | 'status'>;
  webhookDuration: client.Histogram<'platform' | 'channel'>;
  ruleMatches: client.Counter<'rule'>;
  tagOperations: client.Counter<'provider' | 'account' | 'outcome'>;
  tagCallDuration: client.Histogram<'provider' | 'account'>;
  forwards: client.Counter<'destination' | 'outcome'>;
  forwardDuration: client.Histogram<'destination'>;
  ruleReloads: client.Counter<'outcome'>;
  /** Read at scrape time from `source`, which the app sets (webhook/read-body.ts). */
  unverifiedBodyBytes: { source: () => number };
  /** Read at scrape time from `source`, which the server sets (Delivery.callerRoles): undefined where there are no roles. */
  callerRoles: { source: () => ReadonlyMap<string, boolean> | undefined };
}

export function createMetrics(opts: { status?: () => Promise<StoreStatus>; collectDefault?: boolean } = {}): Metrics {
  const registry = new client.Registry();
  // prom-client's own names already start with process_ or nodejs_: the prefix adds only ours.
  if (opts.collectDefault !== false) client.collectDefaultMetrics({ register: registry, prefix: 'autotag_' });
  const m: Metrics = {
    registry,
    webhooks: new client.Counter({
      name: 'autotag_webhooks_total',
      help: 'Webhook requests received, by endpoint platform (line, facebook, whatsapp, meta), channel and outcome (accepted, unauthorized, bad_request, too_large, timeout, unavailable, error)',
      labelNames: ['platform', 'channel', 'outcome'],
      registers: [registry],
    }),
    webhookEvents: new client.Counter({
      name: 'autotag_webhook_events_total',
      help: 'Events inside accepted webhooks, by platform, channel and kind',
      labelNames: ['platform', 'channel', 'kind'],
      registers: [registry],
    }),
    staleEvents: new client.Counter({
      name: 'autotag_stale_events_total',
      help: 'Events more than 8 days older than their receipt (replays), acknowledged and ignored, by platform and channel',
      labelNames: ['platform', 'channel'],
      registers: [registry],
    }),
    httpDuration: new client.Histogram({
      name: 'autotag_http_request_duration_seconds',
      help: 'HTTP request duration by method, route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    webhookDuration: new client.Histogram({
      name: 'autotag_webhook_duration_seconds',
      help: 'Time from receiving a webhook to answering it, by endpoint platform and channel',
      labelNames: ['platform', 'channel'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    ruleMatches: new client.Counter({
      name: 'autotag_rule_matches_total',
      help: 'Rule matches, by rule id',
      labelNames: ['rule'],
      registers: [registry],
    }),
    tagOperations: new client.Counter({
      name: 'autotag_tag_operations_total',
      help: 'Tag operation attempts by provider, account and outcome (applied, retry, dead, superseded)',
      labelNames: ['provider', 'account', 'outcome'],
      registers: [registry],
    }),
    tagCallDuration: new client.Histogram({
      name: 'autotag_tag_call_duration_seconds',
      help: 'Duration of tag API calls by provider and account',
      labelNames: ['provider', 'account'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    forwards: new client.Counter({
      name: 'autotag_forwards_total',
      help: 'Forward attempts by destination and outcome (delivered, retry, dead)',
      labelNames: ['destination', 'outcome'],
      registers: [registry],
    }),
    forwardDuration: new client.Histogram({
      name: 'autotag_forward_duration_seconds',
      help: 'Duration of forward calls by destination',
      labelNames: ['destination'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    ruleReloads: new client.Counter({
      name: 'autotag_rule_reloads_total',
      help: 'Rule reloads by outcome (applied, rejected)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    unverifiedBodyBytes: { source: () => 0 },
    callerRoles: { source: () => undefined },
  };
  new client.Gauge({
    name: 'autotag_unverified_body_bytes',
    help: 'Bytes of webhook bodies being received whose signature is not checked yet: their declared Content-Length, or what arrived when that is more (at most MAX_UNVERIFIED_BYTES)',
    registers: [registry],
    collect() {
      this.set(m.unverifiedBodyBytes.source());
    },
  });
  new client.Gauge({
    name: 'autotag_account_caller',
    help: 'PostgreSQL with PROVIDER_CALLERS=one: 1 for each provider account whose caller role this instance holds (it is the only instance calling it), 0 for those another instance (or none) holds; absent with SQLite and PROVIDER_CALLERS=every',
    labelNames: ['account'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [account, held] of m.callerRoles.source() ?? []) this.set({ account }, held ? 1 : 0);
    },
  });

  const status = opts.status;
  if (status) {
    // Queue figures are read from the store at scrape time, so every instance reports the shared queue.
    // One store read per scrape, shared by the gauges below: prom-client starts every collect of a
    // scrape in one synchronous pass, so they all join the read in flight; the next scrape reads again.
    let reading: Promise<StoreStatus | undefined> | undefined;
    const read = () => {
      reading ??= status()
        .catch(() => undefined)
        .finally(() => {
          reading = undefined;
        });
      return reading;
    };
    new client.Gauge({
      name: 'autotag_store_up',
      help: 'Whether the store answered the queue figures at this scrape (1) or not (0: the queue series are left out, not repeated from an earlier scrape)',
      registers: [registry],
      async collect() {
        this.set((await read()) ? 1 : 0);
      },
    });
    new client.Gauge({
      name: 'autotag_queue_depth',
      help: 'Queued work by queue (operations, forwards) and state (pending, due, leased)',
      labelNames: ['queue', 'state'],
      registers: [registry],
      async collect() {
        const s = await read();
        // Without an answer, report nothing rather than the figures of an earlier scrape.
        this.reset();
        if (!s) return;
        for (const queue of ['operations', 'forwards'] as const) {
          for (const state of ['pending', 'due', 'leased'] as const) this.set({ queue, state }, s[queue][state]);
        }
      },
    });
    new client.Gauge({
      name: 'autotag_dead_letters',
      help: 'Dead letters by queue (operations, forwards)',
      labelNames: ['queue'],
      registers: [registry],
      async collect() {
        const s = await read();
        // Without an answer, report nothing rather than the figures of an earlier scrape.
        this.reset();
        if (!s) return;
        this.set({ queue: 'operations' }, s.operations.dead);
        this.set({ queue: 'forwards' }, s.forwards.dead);
      },
    });
    new client.Gauge({
      name: 'autotag_lifetimes_running',
      help: 'Tags whose lifetime (for:) is running: each is removed when it ends',
      registers: [registry],
      async collect() {
        const s = await read();
        // Without an answer, report nothing rather than the figure of an earlier scrape (or a 0:
        // a gauge without labels holds one value, which only remove() takes away).
        if (s) this.set(s.lifetimes.running);
        else this.remove();
      },
    });
    new client.Gauge({
      name: 'autotag_oldest_pending_age_seconds',
      help: 'Age of the oldest unfinished item, by queue',
      labelNames: ['queue'],
      registers: [registry],
      async collect() {
        const s = await read();
        // Without an answer, report nothing rather than the figures of an earlier scrape.
        this.reset();
        if (!s) return;
        for (const queue of ['operations', 'forwards'] as const) this.set({ queue }, (s[queue].oldestPendingAgeMs ?? 0) / 1000);
      },
    });
    new client.Gauge({
      name: 'autotag_account_paused_seconds',
      help: 'Seconds left of the pause a Retry-After put on calls to a provider account, by account (only accounts paused now)',
      labelNames: ['account'],
      registers: [registry],
      async collect() {
        const s = await read();
        this.reset();
        if (!s) return;
        const now = Date.now();
        for (const p of s.pauses) if (p.until > now) this.set({ account: p.account }, (p.until - now) / 1000);
      },
    });
  }
  return m;
}
