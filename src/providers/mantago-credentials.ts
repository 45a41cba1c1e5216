import { createHash } from 'node:crypto';
import type { Logger } from '../log';
import type { SettingsStore } from './settings-store';
import { TagApiError, withChanges } from './errors';
import { jwtExpiresAt } from './jwt-exp';
import type { MantagoClient, MantagoCreds } from './mantago';

/**
 * Keeps the MantaGo token pair current (CONTRACT.md, "MantaGo tokens expire after 30 days").
 *
 * - The pair in force lives in the store, so a restart and every other instance use the
 *   one the last refresh produced (a refresh makes the old pair stop working).
 * - The environment's pair takes over only when it changed since the previous start:
 *   a fingerprint (a hash, never the values) of the environment's pair is kept beside it.
 * - Refreshes happen under the store lock `mantago-token:<account>`, so one instance refreshes
 *   an account's pair at a time; whoever gets the lock second sees the stored token changed
 *   and uses it. Each account has its own pair, fingerprint and lock: refreshing one never
 *   touches another's.
 * - Proactively when less than 24 h of the JWT remain (before a call, and when its last day
 *   begins without one: mantago-pair-keeper.ts); and after a 401.
 *
 * "The environment's pair" is the pair the configuration gives the account: MANTAGO_TOKEN
 * and MANTAGO_SECRET for the environment's account (named `mantago`), the `${VARIABLE}`s
 * of an account of the channels file.
 */

/** Where an account's pair in force is kept (store step 6 moved the single pair of earlier releases here, under `mantago`). */
export const mantagoPairSetting = (account: string): string => `mantago.credentials:${account}`;
export const mantagoEnvFingerprintSetting = (account: string): string => `mantago.env-fingerprint:${account}`;
export const mantagoTokenLock = (account: string): string => `mantago-token:${account}`;

/** What to tell the operator when MantaGo refuses an account's pair. */
export function operatorHint(pairSource: string): string {
  return `set a fresh ${pairSource} from the MantaGo console`;
}

export interface MantagoCredentials {
  /** Decides which pair is in force (the environment's, or the stored one). */
  init(): Promise<void>;
  /** The pair to call with; refreshes first when the JWT expires within 24 h. */
  current(): Promise<MantagoCreds>;
  /**
   * After a 401 with `stale`: uses a pair another refresher already stored, or refreshes.
   * Throws a TagApiError (not retryable when MantaGo refused the refresh).
   */
  refreshAfter401(stale: { token: string }): Promise<MantagoCreds>;
  /** What to tell the operator when MantaGo refuses the pair. */
  readonly hint: string;
  /**
   * Resolves once no refresh of this process is under way, or after `timeoutMs` (false then).
   * A shutdown waits for it before closing the client: a refresh MantaGo carried out whose
   * answer was cut off leaves no working pair.
   */
  refreshesDone(timeoutMs: number): Promise<boolean>;
}

export interface MantagoCredentialsOptions {
  /** The account whose pair this is (default `mantago`, the environment's account). */
  account?: string;
  /** Where the configured pair comes from, for messages (default `MANTAGO_TOKEN and MANTAGO_SECRET`). */
  pairSource?: string;
  envToken: string;
  envSecret: string;
  store: SettingsStore;
  client: Pick<MantagoClient, 'refreshToken'>;
  log: Logger;
  now?: () => number;
  /** How long a pair read from the store is used before reading it again. */
  cacheTtlMs?: number;
  /** Refresh proactively when less than this remains before `exp` (CONTRACT.md: 24 hours). */
  refreshBeforeMs?: number;
  /**
   * Least time between two proactive refreshes by this process (after a failure, or when
   * MantaGo issues tokens that live less than 24 h: no refresh before every call).
   */
  proactivePauseMs?: number;
}

interface StoredPair extends MantagoCreds {
  source: 'environment' | 'refresh';
  updatedAt: number;
}

export function envFingerprint(token: string, secret: string): string {
  return createHash('sha256').update(`chat-autotag/mantago-env\0${token}\0${secret}`).digest('hex');
}

export function createMantagoCredentials(opts: MantagoCredentialsOptions): MantagoCredentials {
  const now = opts.now ?? Date.now;
  const cacheTtlMs = opts.cacheTtlMs ?? 2000;
  const refreshBeforeMs = opts.refreshBeforeMs ?? 24 * 3600_000;
  const proactivePauseMs = opts.proactivePauseMs ?? 5 * 60_000;
  const account = opts.account ?? 'mantago';
  const pairSetting = mantagoPairSetting(account);
  const fingerprintSetting = mantagoEnvFingerprintSetting(account);
  const lock = mantagoTokenLock(account);
  const pairSource = opts.pairSource ?? 'MANTAGO_TOKEN and MANTAGO_SECRET';
  const hint = operatorHint(pairSource);
  const log = opts.log.child({ provider: 'mantago', account });
  const envPair: StoredPair = { token: opts.envToken, secret: opts.envSecret, source: 'environment', updatedAt: 0 };

  let cached: { pair: MantagoCreds; readAt: number } | undefined;
  let initDone: Promise<void> | undefined;
  let proactiveAt: number | undefined;
  /** One refresh per stale token in this process; other callers wait for it. */
  const refreshing = new Map<string, Promise<MantagoCreds>>();

  async function readStored(): Promise<StoredPair | undefined> {
    const raw = await opts.store.getSetting(pairSetting);
    if (!raw) return undefined;
    try {
      const v = JSON.parse(raw) as Partial<StoredPair>;
      if (typeof v.token === 'string' && typeof v.secret === 'string' && v.token && v.secret) {
        return { token: v.token, secret: v.secret, source: v.source === 'refresh' ? 'refresh' : 'environment', updatedAt: v.updatedAt ?? 0 };
      }
    } catch {
      // fall through: an unreadable value is treated as absent
    }
    log.warn('stored MantaGo credentials are unreadable; using the environment pair', { setting: pairSetting });
    return undefined;
  }

  async function writeStored(pair: StoredPair): Promise<void> {
    await opts.store.setSetting(pairSetting, JSON.stringify(pair));
  }

  function remember(pair: MantagoCreds): MantagoCreds {
    const plain = { token: pair.token, secret: pair.secret };
    cached = { pair: plain, readAt: now() };
    return plain;
  }

  async function doInit(): Promise<void> {
    await opts.store.withLock(lock, async () => {
      const fingerprint = envFingerprint(opts.envToken, opts.envSecret);
      const previous = await opts.store.getSetting(fingerprintSetting);
      const stored = await readStored();
      if (previous === fingerprint && stored) {
        log.info('using the MantaGo token pair kept in the store', { source: stored.source });
        remember(stored);
        return;
      }
      const why = previous === undefined ? 'first start' : previous !== fingerprint ? `the environment's pair changed (${pairSource.replace(' and ', ' or ')}, or both)` : 'no stored pair';
      await writeStored({ ...envPair, updatedAt: now() });
      await opts.store.setSetting(fingerprintSetting, fingerprint);
      log.info('using the MantaGo token pair from the environment', { why });
      remember(envPair);
    });
  }

  function init(): Promise<void> {
    initDone ??= doInit().catch((err: unknown) => {
      initDone = undefined; // let the next call try again
      throw err;
    });
    return initDone;
  }

  async function inForce(): Promise<MantagoCreds> {
    await init();
    if (cached && now() - cached.readAt < cacheTtlMs) return cached.pair;
    return remember((await readStored()) ?? envPair);
  }

  /** Refreshes `staleToken` unless another refresher (here or elsewhere) already replaced it. */
  function refresh(staleToken: string, why: 'expiring' | '401'): Promise<MantagoCreds> {
    const running = refreshing.get(staleToken);
    if (running) return running;
    const p = opts.store
      .withLock(lock, async () => {
        const stored = (await readStored()) ?? envPair;
        if (stored.token !== staleToken) return remember(stored);
        const fresh = await opts.client.refreshToken({ token: stored.token, secret: stored.secret });
        // The old pair stops working now: keep the new one in memory even if storing it fails.
        remember(fresh);
        try {
          await writeStored({ ...fresh, source: 'refresh', updatedAt: now() });
        } catch (err) {
          log.error(`MantaGo token refreshed but the new pair could not be stored; a restart will need a fresh ${pairSource}`, { err });
        }
        const exp = jwtExpiresAt(fresh.token);
        log.info('MantaGo token refreshed', { why, expiresAt: exp !== undefined ? new Date(exp).toISOString() : undefined });
        return fresh;
      })
      .finally(() => refreshing.delete(staleToken));
    refreshing.set(staleToken, p);
    return p;
  }

  return {
    init,
    hint,

    async refreshesDone(timeoutMs) {
      if (refreshing.size === 0) return true;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      try {
        return await Promise.race([Promise.allSettled([...refreshing.values()]).then(() => true), late]);
      } finally {
        clearTimeout(timer);
      }
    },

    async current() {
      const pair = await inForce();
      const exp = jwtExpiresAt(pair.token);
      const t = now();
      // A refresh of this pair under way (here) ends it: wait for the new one rather than meet a 401.
      const running = refreshing.get(pair.token);
      if (running) return running.catch(() => pair);
      if (exp === undefined || exp - t >= refreshBeforeMs) return pair;
      if (proactiveAt !== undefined && t - proactiveAt < proactivePauseMs) return pair;
      proactiveAt = t;
      try {
        return await refresh(pair.token, 'expiring');
      } catch (err) {
        // The current token may still work for a while; a call that meets a 401 refreshes again.
        const reason = err instanceof TagApiError ? err.reason : err instanceof Error ? err.message : String(err);
        const fatal = err instanceof TagApiError && !err.retryable;
        log[fatal ? 'error' : 'warn'](
          fatal ? `MantaGo token refresh failed: ${hint}` : 'MantaGo token refresh failed; will try again',
          { reason, expiresAt: new Date(exp).toISOString() },
        );
        return pair;
      }
    },

    async refreshAfter401(stale) {
      await init();
      try {
        return await refresh(stale.token, '401');
      } catch (err) {
        if (!(err instanceof TagApiError)) throw err;
        const status = err.status !== undefined ? String(err.status) : 'no answer';
        if (err.retryable && !err.notFound) {
          // MantaGo was unreachable or busy: the operation is retried later, and refreshes again then.
          throw withChanges(err, { reason: `MantaGo token refresh failed (${status}), will try again: ${err.reason}` });
        }
        const reason = `MantaGo token refresh failed (${status}): ${hint}`;
        log.error(reason, { status: err.status, code: err.code, detail: err.reason });
        throw withChanges(err, { retryable: false, notFound: false, reason });
      }
    },
  };
}
