import pg from 'pg';
import type { Logger } from '../../log';
import { quoteIdent } from './db';

export interface ListenerOptions {
  clientConfig: () => Promise<pg.ClientConfig>;
  channel: string;
  log: Logger;
  onNotify(payload: string): void;
  /** Called after a connection that follows a lost one: notifications sent meanwhile are gone. */
  onReconnect(): void;
  /** Called whenever a connection starts listening, the first one included: nothing sent before it was heard. */
  onListening?(): void;
}

export interface Listener {
  stop(): Promise<void>;
}

const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 5000;

/**
 * LISTEN on a connection of its own (a pooled one would be handed to others), kept
 * up by reconnecting with backoff whenever it drops — a database restart must not
 * leave an instance deaf to work that other instances accepted.
 */
export function startListener(o: ListenerOptions): Listener {
  let stopped = false;
  let client: pg.Client | undefined;
  let timer: NodeJS.Timeout | undefined;
  let delay = FIRST_DELAY_MS;
  let lostOne = false;

  function retryLater(err: unknown): void {
    lostOne = true;
    if (stopped || timer) return;
    o.log.warn('LISTEN connection to PostgreSQL lost; reconnecting', {
      err: err instanceof Error ? err.message : String(err),
      inMs: delay,
    });
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, delay);
    delay = Math.min(delay * 2, MAX_DELAY_MS);
  }

  async function connect(): Promise<void> {
    if (stopped) return;
    let config: pg.ClientConfig;
    try {
      config = await o.clientConfig();
    } catch (err) {
      retryLater(err);
      return;
    }
    if (stopped) return;
    const c = new pg.Client(config);
    client = c;
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      if (client === c) client = undefined;
      c.removeAllListeners('notification');
      c.end().catch(() => undefined);
      retryLater(err);
    };
    c.on('error', fail);
    c.on('end', () => fail(new Error('connection ended')));
    c.on('notification', (msg) => {
      if (msg.channel === o.channel) o.onNotify(msg.payload ?? '');
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${quoteIdent(o.channel)}`);
    } catch (err) {
      fail(err);
      return;
    }
    if (stopped || failed) return;
    delay = FIRST_DELAY_MS;
    if (lostOne) {
      lostOne = false;
      o.log.info('LISTEN connection to PostgreSQL re-established');
      o.onReconnect();
    }
    o.onListening?.();
  }

  void connect();

  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      const c = client;
      client = undefined;
      if (c) {
        c.removeAllListeners();
        c.on('error', () => undefined);
        await c.end().catch(() => undefined);
      }
    },
  };
}
