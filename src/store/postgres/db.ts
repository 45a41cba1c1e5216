import pg from 'pg';
import type { Logger } from '../../log';
import { StoreUnavailableError, type WorkKind } from '../store';
import type { Row } from '../shared/rows';
import { chooseTls, tlsTarget } from './tls-negotiate';
import { tlsSettings, withoutTlsParams, type DatabaseTlsEnv, type TlsSettings } from './tls-settings';

export type SqlParam = string | number | null | Buffer | readonly (string | number | null | Buffer)[];

/** Runs one statement; inside `tx` on the transaction's connection. */
export type Query = (sql: string, params?: readonly SqlParam[]) => Promise<{ rows: Row[]; rowCount: number }>;

/** Runs one statement prepared under `name` (the same name must always come with the same text). */
export type PreparedQuery = (name: string, sql: string, params: readonly SqlParam[]) => Promise<{ rows: Row[]; rowCount: number }>;

/** Tells other instances that work of a kind may be due; runs in the caller's transaction. */
export type Notify = (q: Query, kind: WorkKind) => Promise<void>;

export interface PgDbOptions {
  url: string;
  poolSize: number;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
  /** Every object lives in this schema (search_path); undefined: the server's default. */
  schema?: string;
  /** DATABASE_SSL and libpq's PGSSL* variables; an sslmode in `url` wins over them. Default: DATABASE_SSL=auto. */
  tls?: DatabaseTlsEnv;
  log: Logger;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH',
]);

/**
 * SQLSTATEs that mean "the database cannot serve us right now": connection
 * exceptions (08…), shutdown or start-up (57P01–57P03), statement timeout (57014),
 * out of connections or disk (53…), a database that takes no writes (25006: a standby,
 * or default_transaction_read_only), and the refusals of a new connection: a role that may not
 * log in or whose password no longer holds (28…: revoked or rotated credentials), a database that
 * is gone or renamed (3D000) or takes no connections (55000).
 */
const UNAVAILABLE_SQLSTATE = /^(08...|28...|3D000|55000|57P0[123]|57014|53...|25006)$/;

/**
 * node-postgres reports a dropped or timed-out connection with a plain Error and no
 * code, so these few messages are the only way to tell them from a bug.
 */
const DRIVER_CONNECTION_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Query read timeout|is not queryable|Connection terminated due to connection timeout/;

export function isUnavailable(err: unknown): boolean {
  if (err instanceof StoreUnavailableError) return true;
  // Read by shape, not `instanceof Error`: a socket's error is made by Node itself, which in
  // another realm (a VM context, as under jest) is not an instance of this realm's Error.
  if (typeof err !== 'object' || err === null) return false;
  const { code, message, errors } = err as { code?: unknown; message?: unknown; errors?: unknown };
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code))) return true;
  if (Array.isArray(errors) && errors.some(isUnavailable)) return true;
  return typeof message === 'string' && DRIVER_CONNECTION_MESSAGES.test(message);
}

/** Unreachable-database errors become StoreUnavailableError (the HTTP layer answers 503); others pass through. */
export function toStoreError(err: unknown): unknown {
  if (err instanceof StoreUnavailableError || !isUnavailable(err)) return err;
  const e = err as Error & { code?: string; errors?: unknown };
  const detail = e.message || (Array.isArray(e.errors) ? e.errors.map(String).join('; ') : String(err));
  return new StoreUnavailableError(`PostgreSQL is unavailable: ${e.code ? `${e.code}: ` : ''}${detail}`, err);
}

/** The longest timer Node.js keeps (about 24.8 days): node-postgres takes 0 for "the pool's own" read timeout. */
const UNTIMED_READ_MS = 2_147_483_647;

const RETRYABLE_TX = new Set(['40P01', '40001']); // deadlock, serialization failure
const TX_ATTEMPTS = 3;

async function retryingTx<T>(once: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await once();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (attempt < TX_ATTEMPTS && typeof code === 'string' && RETRYABLE_TX.has(code)) continue;
      throw toStoreError(err);
    }
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * A pool that maps connection failures to StoreUnavailableError and recovers by itself
 * (pg replaces broken connections). Whether connections use TLS is decided once, at
 * the first connection (see tls-negotiate.ts), and holds for every connection after.
 */
export class PgDb {
  private readonly url: string;
  private readonly tls: TlsSettings;
  private config: Promise<pg.ClientConfig> | undefined;
  private poolPromise: Promise<pg.Pool> | undefined;
  private ready: pg.Pool | undefined;
  private lanePromise: Promise<pg.Pool> | undefined;
  private lane: pg.Pool | undefined;
  private ended = false;

  constructor(private readonly opts: PgDbOptions) {
    this.tls = tlsSettings(opts.url, opts.tls ?? { setting: 'auto' });
    // node-postgres must not read TLS parameters of its own out of the URL (see tls-settings.ts).
    this.url = withoutTlsParams(opts.url);
  }

  /** Settings for connections outside the pool (LISTEN, advisory locks): no statement timeout. */
  clientConfig(): Promise<pg.ClientConfig> {
    this.config ??= this.decideTls().catch((err: unknown) => {
      // Not remembered: the next connection asks again (the database may have been down).
      this.config = undefined;
      throw toStoreError(err);
    });
    return this.config;
  }

  private async decideTls(): Promise<pg.ClientConfig> {
    const base: pg.ClientConfig = {
      connectionString: this.url,
      connectionTimeoutMillis: this.opts.connectTimeoutMs,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      ...(this.opts.schema ? { options: `-c search_path=${this.opts.schema}` } : {}),
    };
    const choice = await chooseTls(this.tls, tlsTarget(this.url), this.opts.connectTimeoutMs, () => plainRefusal({ ...base, ssl: false }));
    this.opts.log.info('PostgreSQL connections', choice.summary);
    return { ...base, ssl: choice.ssl };
  }

  private pool(): Promise<pg.Pool> {
    this.poolPromise ??= this.newPool(this.opts.poolSize, (pool) => (this.ready = pool), () => (this.poolPromise = undefined));
    return this.poolPromise;
  }

  private newPool(max: number, onReady: (pool: pg.Pool) => void, onFailed: () => void): Promise<pg.Pool> {
    if (this.ended) return Promise.reject(new Error('the PostgreSQL store is closed'));
    return this.clientConfig().then(
      (config) => {
        const pool = new pg.Pool({
          ...config,
          max,
          statement_timeout: this.opts.statementTimeoutMs,
          // The server cancels at statement_timeout; no answer a second later means the connection is gone.
          query_timeout: this.opts.statementTimeoutMs + 1000,
          idleTimeoutMillis: 30_000,
        });
        // An idle connection dropped by a database restart: pg removes it from the pool;
        // without a listener the error event would crash the process.
        pool.on('error', (err) => this.opts.log.warn('idle PostgreSQL connection lost', { err: err.message }));
        onReady(pool);
        return pool;
      },
      (err: unknown) => {
        onFailed();
        throw err;
      },
    );
  }

  /**
   * The accept path's own connection (one: accepts are group-committed one commit at a
   * time), so that a webhook's commit never waits in the pool's queue behind the
   * worker's claims and settles. Same statements, same error mapping and retries.
   */
  get ackLane(): Pick<PgDb, 'tx' | 'statement'> {
    const lanePool = () => {
      this.lanePromise ??= this.newPool(1, (pool) => (this.lane = pool), () => (this.lanePromise = undefined));
      return this.lane ?? this.lanePromise;
    };
    return {
      tx: (fn) => retryingTx(() => this.txOnce(fn, lanePool)),
      statement: (name, sql, params) => retryingTx(() => preparedOn(lanePool, name, sql, params)),
    };
  }

  readonly query: Query = async (sql, params = []) => {
    try {
      const r = await (this.ready ?? (await this.pool())).query(sql, params as unknown[]);
      return { rows: r.rows as Row[], rowCount: r.rowCount ?? 0 };
    } catch (err) {
      throw toStoreError(err);
    }
  };

  /** BEGIN … COMMIT on one connection; retried on deadlock or serialization failure. */
  tx<T>(fn: (q: Query) => Promise<T>): Promise<T> {
    return retryingTx(() => this.txOnce(fn));
  }

  /**
   * As `tx`, without DATABASE_STATEMENT_TIMEOUT_MS (server side: SET LOCAL statement_timeout
   * = 0) nor the client's read timeout that backs it: for the store steps, which rewrite whole
   * tables and take longer than the timeout meant for the service's own statements on a large
   * database (step 9: about 10 s per million operations), and for an instance that waits for
   * another's migration. TCP keep-alive still notices a connection that is gone.
   */
  untimedTx<T>(fn: (q: Query) => Promise<T>): Promise<T> {
    return retryingTx(() => this.txOnce(fn, undefined, true));
  }

  /**
   * One statement that is its own transaction (one round trip, no BEGIN/COMMIT);
   * retried like `tx`. Only for a statement that does all of a transaction's work.
   * It is prepared once per connection under `name` (one name, one text), so the
   * server neither parses nor plans it again on every call.
   */
  readonly statement: PreparedQuery = (name, sql, params) => retryingTx(() => preparedOn(() => this.ready ?? this.pool(), name, sql, params));

  private async txOnce<T>(
    fn: (q: Query) => Promise<T>,
    poolOf: () => pg.Pool | Promise<pg.Pool> = () => this.ready ?? this.pool(),
    untimed = false,
  ): Promise<T> {
    const client = await (await poolOf()).connect();
    // pg-pool stops listening for a checked-out client's errors; a connection that
    // drops between two statements would otherwise crash the process. The pending
    // statement fails with the same error, so noting it is enough.
    let dropped: Error | undefined;
    const onError = (err: Error) => {
      dropped = err;
    };
    client.on('error', onError);
    // node-postgres reads a query's own query_timeout (its types do not list it).
    const run = (sql: string, params: readonly SqlParam[] = []): Promise<pg.QueryResult> =>
      untimed
        ? client.query({ text: sql, values: params as unknown[], query_timeout: UNTIMED_READ_MS } as pg.QueryConfig)
        : client.query(sql, params as unknown[]);
    const q: Query = async (sql, params = []) => {
      const r = await run(sql, params);
      return { rows: r.rows as Row[], rowCount: r.rowCount ?? 0 };
    };
    try {
      await client.query('BEGIN');
      if (untimed) await client.query('SET LOCAL statement_timeout = 0');
      const result = await fn(q);
      await run('COMMIT');
      client.removeListener('error', onError);
      client.release();
      return result;
    } catch (err) {
      const broken = dropped ?? (isUnavailable(err) ? (err as Error) : undefined);
      if (!broken) await client.query('ROLLBACK').catch(() => undefined);
      client.removeListener('error', onError);
      // A connection that failed is destroyed rather than put back in the pool.
      client.release(broken);
      throw err;
    }
  }

  async end(): Promise<void> {
    this.ended = true;
    for (const promise of [this.poolPromise, this.lanePromise]) {
      const pool = await promise?.catch(() => undefined);
      await pool?.end();
    }
  }
}

async function preparedOn(poolOf: () => pg.Pool | Promise<pg.Pool>, name: string, sql: string, params: readonly SqlParam[]): Promise<{ rows: Row[]; rowCount: number }> {
  const r = await (await poolOf()).query({ name, text: sql, values: params as unknown[] });
  return { rows: r.rows as Row[], rowCount: r.rowCount ?? 0 };
}

/** One plain connection attempt (sslmode=allow): undefined when the server takes it, why when it refuses it, thrown when it cannot be reached. */
async function plainRefusal(config: pg.ClientConfig): Promise<string | undefined> {
  const client = new pg.Client(config);
  client.on('error', () => undefined);
  try {
    await client.connect();
    return undefined;
  } catch (err) {
    // A refused login (28…: pg_hba wants TLS, or the plain attempt's authentication failed) is a
    // refusal of plain, as libpq's allow takes it; an unreachable server is not.
    const code = (err as { code?: unknown }).code;
    if (isUnavailable(err) && !(typeof code === 'string' && code.startsWith('28'))) throw err;
    return err instanceof Error ? err.message : String(err);
  } finally {
    await client.end().catch(() => undefined);
  }
}
